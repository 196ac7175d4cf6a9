#!/usr/bin/env node
// E2E suite: packages the extension (.vsix), installs it into a real VS Code (code-server 4.139.1 on
// Node 24 from the tools folder) and drives the workbench with Playwright in headless /usr/bin/chromium.
//
// A spec is test/e2e/specs/<name>.spec.mjs whose default export maps test names to async functions
// receiving { page, helpers } (see helpers.mjs); they run in insertion order. Each spec file gets its own
// code-server (fresh user data, a throwaway copy of demo/workspace) and browser page, the extension
// already activated. A spec may also export `timeout` (ms per test, default 120 s).
//
// Usage: node test/e2e/run.mjs [spec-name-part ...]   env E2E_GREP=<regexp on test names>
// Screenshots go to test-results/e2e/ (failures as FAIL-<spec>-<test>.png).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, installVsix, makeProfile, makeWorkspace, startCodeServer } from '../../tools/code-server.mjs';
import { ensureTools, extensionId, packageVsix, root, tools } from '../../tools/setup.mjs';
import { writeSummary } from '../summary.mjs';
import { makeHelpers, SkipTest } from './helpers.mjs';

const specsDir = join(root, 'test/e2e/specs');
const resultsDir = join(root, 'test-results/e2e');
const filters = process.argv.slice(2);
const grep = process.env.E2E_GREP ? new RegExp(process.env.E2E_GREP) : null;
const counts = { passed: 0, failed: 0, skipped: 0 };

const specFiles = existsSync(specsDir)
  ? readdirSync(specsDir).filter((f) => /\.spec\.m?js$/.test(f)).filter((f) => !filters.length || filters.some((x) => f.includes(x))).sort()
  : [];

/** Runs `fn` with a time limit. */
function withTimeout(fn, ms, what) {
  let timer;
  return Promise.race([fn(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); })])
    .finally(() => clearTimeout(timer));
}

async function runSpec(browser, file, extensions) {
  const specName = file.replace(/\.spec\.m?js$/, '');
  let mod;
  try {
    mod = await import(join(specsDir, file));
  } catch (e) {
    console.log(`\n${specName}\n  ✗ the spec file does not load: ${e.stack ?? e}`);
    counts.failed++;
    return;
  }
  const tests = Object.entries(mod.default ?? {}).filter(([name]) => !grep || grep.test(name));
  if (!tests.length) return;
  const timeout = mod.timeout ?? 120_000;
  console.log(`\n${specName}`);

  const profile = makeProfile({ extensions });
  const workspace = makeWorkspace(profile.dir, join(root, 'demo/workspace'));
  const server = await startCodeServer({ profile, workspace });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const helpers = makeHelpers({ page, server, profile, workspace, resultsDir, extensionId: extensionId() });
  try {
    try {
      await withTimeout(async () => {
        await page.goto(server.folderUrl());
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await helpers.waitForActivation();
      }, 90_000, 'opening the workbench');
    } catch (e) {
      await helpers.screenshot(`FAIL-${specName}-startup`).catch(() => {});
      for (const [name] of tests) console.log(`  ✗ ${name}: workbench did not start: ${e.message}`);
      counts.failed += tests.length;
      return;
    }
    for (const [name, fn] of tests) {
      const t0 = Date.now();
      try {
        await withTimeout(() => fn({ page, helpers }), timeout, name);
        counts.passed++;
        console.log(`  ✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        if (e instanceof SkipTest) {
          counts.skipped++;
          console.log(`  - ${name} (skipped: ${e.message})`);
        } else {
          counts.failed++;
          const shot = await helpers.screenshot(`FAIL-${specName}-${name}`).catch(() => '(no screenshot)');
          console.log(`  ✗ ${name}\n      ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n      ')}\n      screenshot: ${shot}`);
        }
      }
      await helpers.closeQuickInput().catch(() => {});
    }
  } finally {
    await context.close();
    await server.stop();
    profile.dispose();
  }
}

async function main() {
  if (!specFiles.length) { console.log('no E2E specs selected'); return; }
  ensureTools();
  if (!filters.length && !grep) rmSync(resultsDir, { recursive: true, force: true });
  const shared = makeProfile();
  const browser = await chromium.launch({ executablePath: tools.chromium, headless: true, args: chromiumArgs });
  try {
    const vsix = packageVsix(join(shared.dir, 'layerlens.vsix'));
    installVsix(shared, vsix);
    for (const file of specFiles) await runSpec(browser, file, shared.extensions);
  } finally {
    await browser.close();
    shared.dispose();
  }
}

try {
  await main();
} catch (e) {
  console.error(`E2E harness error: ${e.stack ?? e}`);
  counts.failed++;
}
writeSummary('e2e', counts);
process.exit(counts.failed ? 1 : 0);
