// Prepares what `npm test` and `npm run demo` need, installing only what is missing:
// npm dependencies, the tools folder (Node 24 + code-server + chromium, via tools/ci-tools.sh),
// the esbuild bundles and the packaged .vsix. Node built-ins only: it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Repository root. */
export const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** Where tools/ci-tools.sh installs Node 24 and code-server (outside the repo). */
export const toolsDir = process.env.LAYERLENS_TOOLS || join(homedir(), '.cache/layerlens-tools');

/** Paths of the installed tools. */
export const tools = {
  node24Bin: join(toolsDir, 'node24/node_modules/node/bin'),
  codeServer: join(toolsDir, 'cs/node_modules/.bin/code-server'),
  chromium: process.env.LAYERLENS_CHROMIUM || '/usr/bin/chromium',
};

/** Runs a command with inherited output; throws with the command line when it fails. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    throw new Error(`\`${[cmd, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  }
}

/** `npm ci` when node_modules is absent (onnxruntime-node's download of extra binaries skipped). */
export function ensureNpmDeps() {
  if (existsSync(join(root, 'node_modules/.package-lock.json'))) return;
  console.log('[setup] installing npm dependencies (npm ci)');
  sh('npm', ['ci', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

/** Installs Node 24, code-server and chromium unless all are present. */
export function ensureTools() {
  const ready = existsSync(join(toolsDir, 'node24/.complete')) && existsSync(join(toolsDir, 'cs/.complete'))
    && existsSync(tools.codeServer) && existsSync(tools.chromium);
  if (!ready) sh('bash', [join(root, 'tools/ci-tools.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  return tools;
}

/** Development build of every bundle into out/. */
export function build() {
  sh(process.execPath, [join(root, 'esbuild.mjs')]);
}

/**
 * Packages the extension (vsce runs `vscode:prepublish`, the production build) and returns the .vsix path.
 * README links stay relative: they resolve inside the installed extension, which holds media/.
 */
export function packageVsix(outFile = join(root, 'layerlens.vsix')) {
  const vsce = join(root, 'node_modules/.bin/vsce');
  const r = spawnSync(vsce, ['package', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', outFile], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`vsce package failed (exit ${r.status ?? r.signal})`);
  }
  console.log(`[setup] packaged ${outFile} (${(statSync(outFile).size / 2 ** 20).toFixed(1)} MiB)`);
  return outFile;
}

/** The extension's id (publisher.name) from package.json. */
export function extensionId() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}`;
}
