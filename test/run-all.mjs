#!/usr/bin/env node
// The README's test command (`npm test`): installs npm dependencies if they are missing, builds, then
// runs every suite (unit; integration in the real extension host; end-to-end in real VS Code) and ends
// with one line "N passed, N failed, N skipped" summing them all.
// Suites: each is a command that writes a JSON summary {passed, failed, skipped} to the file in
// $SUITE_SUMMARY (test/summary.mjs). Usage: node test/run-all.mjs [unit|integration|e2e ...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureNpmDeps } from '../tools/setup.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
mkdirSync(join(root, 'test-results'), { recursive: true });

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const suites = [
  {
    name: 'unit',
    run() {
      const files = findTests(join(root, 'test/unit'));
      const tap = join(root, 'test-results/unit.tap');
      const r = spawnSync(process.execPath, [
        '--import', 'tsx', '--test', '--test-concurrency=2',
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tap}`,
        ...files,
      ], { cwd: root, stdio: 'inherit' });
      const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      const num = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)`, 'm')) ?? [])[1] ?? 0);
      const res = { passed: num('pass'), failed: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
      if (r.status !== 0 && res.failed === 0) res.failed = 1; // the runner itself broke
      return res;
    },
  },
  { name: 'integration', script: 'test/integration/run.mjs' },
  { name: 'e2e', script: 'test/e2e/run.mjs' },
];

function runScript(script) {
  const summary = join(root, `test-results/${script.replace(/\W+/g, '_')}.json`);
  const r = spawnSync(process.execPath, [join(root, script)], {
    cwd: root, stdio: 'inherit', env: { ...process.env, SUITE_SUMMARY: summary },
  });
  if (!existsSync(summary)) return { passed: 0, failed: 1, skipped: 0 };
  const res = JSON.parse(readFileSync(summary, 'utf8'));
  if (r.status !== 0 && res.failed === 0) res.failed = 1;
  return res;
}

const total = { passed: 0, failed: 0, skipped: 0 };
try {
  ensureNpmDeps();
  build();
} catch (e) {
  console.error(`build failed: ${e.message}`);
  total.failed++;
}
for (const s of suites) {
  if (only.length && !only.includes(s.name)) continue;
  if (s.script && !existsSync(join(root, s.script))) continue;
  console.log(`\n=== suite: ${s.name}`);
  const r = s.run ? s.run() : runScript(s.script);
  console.log(`=== ${s.name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  for (const k of Object.keys(total)) total[k] += r[k];
}
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
