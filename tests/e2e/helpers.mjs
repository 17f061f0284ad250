// Shared by the specs: the native top-k, and page instrumentation (CSP violations, unhandled
// rejections) installed before any page script runs.
import { execFileSync } from 'node:child_process';

export const FIX = 'build/e2e-fixtures';
export const MODEL = '/fixtures/main.mdsb';

/** `mdsrec recommend --json` on a fixture (or a path with a slash): [{key, score}] */
export function nativeTopK(bundle, history, k, extra = []) {
  const args = ['recommend', bundle.includes('/') ? bundle : `${FIX}/${bundle}`, '-k', String(k), '--json', ...extra];
  if (history.length) args.push('--history', history.join(','));
  const out = JSON.parse(execFileSync(process.env.MDSREC_BIN || 'build/bin/mdsrec', args, { encoding: 'utf8' }));
  return out.items.map((it) => ({ key: it.key, score: it.score }));
}

/** Records CSP violations and unhandled rejections in window.__csp / window.__unhandled. */
export async function instrument(page) {
  await page.addInitScript(() => {
    window.__csp = [];
    window.__unhandled = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    window.addEventListener('unhandledrejection', (e) => window.__unhandled.push(String(e.reason && (e.reason.stack || e.reason))));
  });
}

export function expectSameRanking(expect, got, want) {
  expect(got.map((x) => x.key)).toEqual(want.map((x) => x.key));
  got.forEach((g, i) => expect(Math.abs(g.score - want[i].score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want[i].score))));
}
