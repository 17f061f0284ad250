// Browser tests (tests/e2e/*.spec.mjs) on Debian's chromium, against scripts/serve.mjs with the
// demo's strict CSP. The bundles they use are made at test time by tests/e2e/global-setup.mjs
// with `build/bin/mdsrec synth` into build/e2e-fixtures (served at /fixtures); nothing is committed.
import { defineConfig } from '@playwright/test';

// One port for the runner and its workers (they inherit the environment).
if (!process.env.MDSREC_E2E_PORT) process.env.MDSREC_E2E_PORT = String(41000 + Math.floor(Math.random() * 9000));
const port = Number(process.env.MDSREC_E2E_PORT);

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '*.spec.mjs',
  globalSetup: './tests/e2e/global-setup.mjs',
  workers: 2,
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 900 },
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    },
  },
  webServer: {
    command: `node scripts/serve.mjs --port ${port} --root web --mount /models=models --mount /fixtures=build/e2e-fixtures --mount /shared-data=build/e2e-fixtures/shared-data`,
    url: `http://127.0.0.1:${port}/mdsrec.js`,
    reuseExistingServer: false,
    timeout: 20_000,
    stdout: 'ignore',
  },
});
