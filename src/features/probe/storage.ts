// Where probing keeps its files: the activation cache and the trained probes (with their run results),
// in the workspace's storage folder (or the global one without a workspace).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ProbeRunResult } from '../../../protocol';
import type { FeatureContext } from '../api';

function base(ctx: FeatureContext): string {
  return (ctx.extension.storageUri ?? ctx.extension.globalStorageUri).fsPath;
}

export function cacheDir(ctx: FeatureContext): string {
  return path.join(base(ctx), 'probe-cache');
}

export function probesDir(ctx: FeatureContext): string {
  return path.join(base(ctx), 'probes');
}

/** A saved probe file: `<name>.probe.json`, with its run result beside it in `<name>.run.json`. */
export interface SavedProbeEntry {
  probeFile: string;
  runFile: string;
  name: string;
}

export function runFileOf(probeFile: string): string {
  return probeFile.replace(/\.probe\.json$/, '.run.json');
}

export async function listSavedProbes(ctx: FeatureContext): Promise<SavedProbeEntry[]> {
  const dir = probesDir(ctx);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith('.probe.json'))
    .sort()
    .reverse()
    .map((n) => ({ probeFile: path.join(dir, n), runFile: runFileOf(path.join(dir, n)), name: n.replace(/\.probe\.json$/, '') }));
}

export async function saveRun(probeFile: string, run: ProbeRunResult): Promise<void> {
  await fs.writeFile(runFileOf(probeFile), JSON.stringify(run));
}

export async function loadRun(runFile: string): Promise<ProbeRunResult> {
  return JSON.parse(await fs.readFile(runFile, 'utf8')) as ProbeRunResult;
}
