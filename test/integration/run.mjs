#!/usr/bin/env node
// Integration suite: mocha inside the real VS Code extension host. Builds the extension (out/) and
// bundles test/integration/index.ts + suites/*.test.ts into out/test/integration/, starts code-server with
// the smoke-test driver (needed for ?payload=), opens a throwaway copy of demo/workspace with the repo as
// extensionDevelopmentPath, and reads the results back through window.codeAutomationLog/Exit.
//
// Usage: node test/integration/run.mjs      env IT_TIMEOUT_S (default 300)
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { chromiumArgs, extensionHostLog, makeProfile, makeWorkspace, startCodeServer } from '../../tools/code-server.mjs';
import { build, ensureTools, root, tools } from '../../tools/setup.mjs';
import { writeSummary } from '../summary.mjs';

const REPORT_PREFIX = '[layerlens-it] '; // as in index.ts
const timeoutS = Number(process.env.IT_TIMEOUT_S ?? 300);
const outDir = join(root, 'out/test/integration');

/** Bundles the mocha entry and each suite (vscode and mocha stay external: the host provides them). */
async function bundleTests() {
  const suites = readdirSync(join(root, 'test/integration/suites')).filter((f) => f.endsWith('.test.ts'));
  rmSync(outDir, { recursive: true, force: true }); // no stale bundles of removed suites
  const entryPoints = { index: 'test/integration/index.ts' };
  for (const f of suites) entryPoints[`suites/${f.replace(/\.ts$/, '')}`] = `test/integration/suites/${f}`;
  await esbuild.build({
    absWorkingDir: root, entryPoints, outdir: outDir, bundle: true, platform: 'node', format: 'cjs',
    target: 'node20', sourcemap: 'inline', external: ['vscode', 'mocha', 'onnxruntime-node'], logLevel: 'warning',
  });
  return suites.length;
}

/** Runs the suite in the extension host; resolves with {passed, failed, skipped}. */
async function runInExtensionHost() {
  const profile = makeProfile();
  const workspace = makeWorkspace(profile.dir, join(root, 'demo/workspace'));
  const server = await startCodeServer({ profile, workspace, smokeTestDriver: true });
  const browser = await chromium.launch({ executablePath: tools.chromium, headless: true, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    let result = null;
    let exit;
    const exited = new Promise((resolve) => { exit = resolve; });
    await page.exposeFunction('codeAutomationExit', (code) => exit(code));
    await page.exposeFunction('codeAutomationLog', (_type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      if (!text.startsWith(REPORT_PREFIX)) return; // the workbench's own logs
      const line = text.slice(REPORT_PREFIX.length);
      if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
      else console.log(line);
    });
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(join(outDir, 'index.js'))]]);
    await page.goto(server.folderUrl(workspace, { payload }));
    let timer;
    const code = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutS * 1000); })]);
    clearTimeout(timer);
    if (code === 'timeout') {
      console.log(`integration: no exit from the extension host within ${timeoutS} s`);
      return { passed: result?.passed ?? 0, failed: (result?.failed ?? 0) + 1, skipped: result?.skipped ?? 0 };
    }
    if (!result) { // the suite never ran (e.g. it failed to load): show what the extension host said
      const errors = extensionHostLog(profile).split('\n').filter((l) => /\[error\]/i.test(l)).slice(-20);
      console.log(`integration: the suite did not report (exit ${code}); extension host errors:\n${errors.join('\n')}`);
      return { passed: 0, failed: 1, skipped: 0 };
    }
    if (code !== 0 && result.failed === 0) result.failed = 1;
    return result;
  } finally {
    await browser.close();
    await server.stop();
    profile.dispose();
  }
}

let counts = { passed: 0, failed: 1, skipped: 0 };
try {
  ensureTools();
  build();
  if (await bundleTests()) counts = await runInExtensionHost();
  else counts = { passed: 0, failed: 0, skipped: 0 };
} catch (e) {
  console.error(`integration harness error: ${e.stack ?? e}`);
}
writeSummary('integration', counts);
process.exit(counts.failed ? 1 : 0);
