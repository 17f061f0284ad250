// setup_sh.test.mjs - scripts/setup.sh, run against stand-ins for dpkg-query, id, fuser and
// apt-get: a missing package is installed with apt's lock timeout (so a second apt process makes
// setup wait, with a message, instead of failing at once), and nothing is installed when every
// package is there. No real package manager is touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const skip = !existsSync(join(ROOT, 'node_modules', '.package-lock.json')) && 'needs node_modules (npm ci)';

function fakes(dir, { missing, locked }) {
  const bin = (name, body) => { writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`); chmodSync(join(dir, name), 0o755); };
  // dpkg-query -W -f=... PKG: "install ok installed" unless PKG is the missing one
  bin('dpkg-query', `for a; do p=$a; done; [ "$p" = "${missing}" ] && exit 1; printf 'install ok installed'`);
  bin('id', 'echo 0');
  bin('fuser', locked ? 'exit 0' : 'exit 1');
  bin('apt-get', `echo "$@" >> "${join(dir, 'apt.log')}"`);
}

const run = (dir) => spawnSync('bash', [join(ROOT, 'scripts/setup.sh')], {
  env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });

test('a missing package is installed with the lock timeout, and a held lock is announced', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'setup-sh-'));
  try {
    fakes(dir, { missing: 'zlib1g-dev', locked: true });
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /installing Debian packages: zlib1g-dev/);
    assert.match(r.stdout, /another package manager is running; waiting/);
    const calls = readFileSync(join(dir, 'apt.log'), 'utf8').trim().split('\n');
    assert.equal(calls.length, 2);
    for (const c of calls) assert.match(c, /-o DPkg::Lock::Timeout=\d+/);
    assert.match(calls[0], /update/);
    assert.match(calls[1], /install -y -q zlib1g-dev$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing to install: apt is not called', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'setup-sh-'));
  try {
    fakes(dir, { missing: 'none', locked: false });
    const r = run(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(join(dir, 'apt.log')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
