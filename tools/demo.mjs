#!/usr/bin/env node
// `npm run demo`: installs what is missing (npm dependencies; the tools folder unless a local `code` is
// used), packages the extension, and opens a real VS Code on demo/workspace with a prompt open. The
// extension loads its bundled demo model. With `code` on PATH the .vsix is installed there; otherwise
// code-server serves VS Code on 127.0.0.1 (port: env LAYERLENS_DEMO_PORT, default a free one), prints
// the URL and runs until Ctrl-C (LAYERLENS_DEMO_CODE_SERVER=1 picks code-server even when `code` exists).
// Node built-ins only until `npm ci` has run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installVsix, makeProfile, makeWorkspace, openInConnectedWindow, startCodeServer } from './code-server.mjs';
import { ensureNpmDeps, ensureTools, packageVsix, root } from './setup.mjs';

/** The file to open (relative path): demo-prompts.md (every demo prompt with what to try), else story.prompt.md,
 * else the first *.prompt.md, else any Markdown file. */
function firstPrompt(ws) {
  const files = readdirSync(ws, { recursive: true }).map(String).filter((f) => !f.startsWith('.')).sort();
  return files.find((f) => f === 'demo-prompts.md') ?? files.find((f) => f === 'story.prompt.md') ?? files.find((f) => f.endsWith('.prompt.md')) ?? files.find((f) => f.endsWith('.md'));
}

function hasLocalCode() {
  return spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Local desktop VS Code: install the .vsix there and open the workspace with a prompt. */
function openInLocalCode(vsix, ws) {
  execFileSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  const prompt = firstPrompt(ws);
  execFileSync('code', ['--new-window', ws, ...(prompt ? [join(ws, prompt)] : [])], { stdio: 'inherit' });
  console.log(`\nOpened ${ws} in VS Code with the layerlens extension installed.`);
}

/** code-server on 127.0.0.1 with a fresh profile; opens the prompt once a browser window connects. */
async function serveCodeServer(vsix, demoWs) {
  const profile = makeProfile();
  process.on('exit', () => profile.dispose());
  installVsix(profile, vsix);
  const ws = existsSync(demoWs) ? demoWs : makeWorkspace(profile.dir);
  const port = process.env.LAYERLENS_DEMO_PORT ? Number(process.env.LAYERLENS_DEMO_PORT) : undefined;
  const server = await startCodeServer({ profile, workspace: ws, port });
  console.log(`\nlayerlens demo (VS Code in code-server): open\n\n  ${server.folderUrl(ws)}\n\nin a browser. Ctrl-C stops it.`);
  const prompt = firstPrompt(ws);
  if (!prompt) return;
  if (await openInConnectedWindow(profile, join(ws, prompt))) console.log(`opened ${prompt}`);
}

ensureNpmDeps();
const local = process.env.LAYERLENS_DEMO_CODE_SERVER ? false : hasLocalCode();
if (!local) ensureTools();
const vsix = packageVsix();
const demoWs = join(root, 'demo/workspace');
if (local) openInLocalCode(vsix, demoWs);
else await serveCodeServer(vsix, demoWs);
