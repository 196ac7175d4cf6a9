// Runs a real VS Code (code-server, on Node 24 from the tools folder) for the tests and the demo:
// fresh user-data and extensions dirs, .vsix installation, start in its own process group, stop.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tools } from './setup.mjs';

/** User settings that keep a fresh profile quiet: no Welcome tab, no chat side bar, no update checks. */
export const quietUserSettings = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.tips.enabled': false,
};

/** Flags that Playwright passes to /usr/bin/chromium (headless, no network side traffic). */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Env with Node 24 first on PATH: code-server is a `#!/usr/bin/env node` script that needs it. */
function serverEnv(extra = {}) {
  return { ...process.env, PATH: `${tools.node24Bin}:${process.env.PATH}`, ...extra };
}

/**
 * A fresh profile: a temp dir with a user-data dir (quiet settings) and an extensions dir. Pass
 * `extensions` to share an extensions dir (with extensions already installed) between profiles.
 */
export function makeProfile({ extensions } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'layerlens-vscode-'));
  const userData = join(dir, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User/settings.json'), JSON.stringify(quietUserSettings, null, 2));
  if (!extensions) mkdirSync(extensions = join(dir, 'extensions'));
  return { dir, userData, extensions, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A throwaway copy of a workspace folder (so tests never change the repo), or, when `src` does not
 * exist, a new folder with one prompt file. Returns its absolute path (inside `parent`).
 */
export function makeWorkspace(parent, src) {
  const ws = join(parent, 'workspace');
  if (src && existsSync(src)) cpSync(src, ws, { recursive: true });
  else {
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'story.prompt.md'), 'Once upon a time, there was a little girl named Lily.\n');
  }
  return ws;
}

/** Installs a .vsix into the profile's extensions dir. */
export function installVsix(profile, vsix) {
  execFileSync(tools.codeServer, ['--user-data-dir', profile.userData, '--extensions-dir', profile.extensions,
    '--install-extension', vsix, '--force'], { env: serverEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
}

/**
 * Starts code-server on 127.0.0.1 in its own process group and waits for /healthz.
 * @param {{ profile: ReturnType<typeof makeProfile>, workspace: string, smokeTestDriver?: boolean,
 *   env?: Record<string,string>, logFile?: string, port?: number }} o
 *   smokeTestDriver: needed for `?payload=` extension tests; it also suppresses notification toasts.
 *   env reaches the extension host's process.env.
 */
export async function startCodeServer(o) {
  const port = o.port ?? await freePort();
  const args = ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--reconnection-grace-time', '5',
    '--user-data-dir', o.profile.userData, '--extensions-dir', o.profile.extensions];
  if (o.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(o.workspace);
  const log = openSync(o.logFile ?? join(o.profile.dir, 'code-server.log'), 'a');
  const child = spawn(tools.codeServer, args, { detached: true, stdio: ['ignore', log, log], env: serverEnv(o.env) });
  const pgid = child.pid;
  trackServer(pgid);
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal ?? code; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) { running.delete(pgid); throw new Error(`code-server exited (${exited}) at start-up; log: ${o.profile.dir}/code-server.log`); }
    if (Date.now() > deadline) { await killGroup(pgid); throw new Error('code-server did not answer /healthz within 60 s'); }
    try { if ((await fetch(`${url}/healthz`)).ok) break; } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url, port, pgid,
    /** The URL that opens `folder` in the workbench (plus extra query parameters). */
    folderUrl: (folder = o.workspace, query = {}) =>
      `${url}/?${new URLSearchParams({ folder, ...query }).toString()}`,
    /** Stops the server, its extension hosts and their children (the whole process group). */
    stop: () => killGroup(pgid),
  };
}

/**
 * Opens a file in the browser window connected to the server of `profile` (code-server's --reuse-window).
 * Waits for a window to connect (its extension host starts logging), then tries a few times; false if the
 * server never took the file.
 */
export async function openInConnectedWindow(profile, file) {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  while (!extensionHostLog(profile)) await sleep(500);
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = spawnSync(tools.codeServer, ['--user-data-dir', profile.userData, '--reuse-window', file], { env: serverEnv(), stdio: 'ignore' });
    if (r.status === 0) return true;
    await sleep(1000);
  }
  return false;
}

/** Stops a process group: SIGTERM, then SIGKILL for whatever is left after `graceMs`. */
export async function killGroup(pgid, graceMs = 3000) {
  try { process.kill(-pgid, 'SIGTERM'); } catch { return; }
  const until = Date.now() + graceMs;
  while (groupProcesses(pgid).length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* all gone */ }
  running.delete(pgid);
}

/** Live (non-zombie) processes of a process group whose command line contains `needle`: [{pid, ppid, args}]. */
export function groupProcesses(pgid, needle = '') {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/)).filter(Boolean)
    .filter((m) => Number(m[3]) === pgid && !m[4].startsWith('Z') && m[5].includes(needle))
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[5] }));
}

/** Process groups of servers not yet stopped; killed when this process exits or is interrupted. */
const running = new Set();
let cleanupInstalled = false;
function trackServer(pgid) {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    const killAll = () => { for (const g of running) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } } };
    process.on('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => { killAll(); process.exit(130); });
  }
  running.add(pgid);
}

/** Newest extension-host log text of a profile (for activation and error checks), or ''. */
export function extensionHostLog(profile) {
  const logs = join(profile.userData, 'logs');
  if (!existsSync(logs)) return '';
  let text = '';
  for (const session of readdirSync(logs).sort()) {
    for (const d of readdirSync(join(logs, session))) {
      const f = join(logs, session, d, 'remoteexthost.log');
      if (d.startsWith('exthost') && existsSync(f)) text += readFileSync(f, 'utf8');
    }
  }
  return text;
}
