// layerlens.probeTrain: pick a data set (CSV / TSV / JSONL / JSON), its text / label / group / span
// columns and the pooling, train per-layer probes in the sidecar, and show the curves. Malformed rows
// are listed and skipped only when the user agrees.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeDatasetSpec, ProbePooling, ProbeRunResult, ProbeTrainParams } from '../../../protocol';
import type { FeatureContext } from '../api';
import { cacheDir, probesDir, saveRun } from './storage';

const NONE = '(none)';

async function pickColumn(columns: string[], title: string, optional: boolean, guess: RegExp): Promise<string | undefined> {
  const items = [...(optional ? [NONE] : []), ...columns].map((label) => ({ label, picked: guess.test(label) }));
  items.sort((a, b) => Number(b.picked) - Number(a.picked));
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: title, ignoreFocusOut: true });
  return pick?.label;
}

/** The labelled data sets bundled with the demo model (demo/data/probe-*.csv), when present. */
function demoDataSets(ctx: FeatureContext): { label: string; description: string; file: string }[] {
  const dir = path.join(ctx.extension.extensionPath, 'demo', 'data');
  return [
    { name: 'gender', what: 'female / male, grouped by name; span = the name' },
    { name: 'sentiment', what: 'happy / sad, grouped by mood word' },
  ]
    .map(({ name, what }) => ({ label: `Demo data: ${name}`, description: what, file: path.join(dir, `probe-${name}.csv`) }))
    .filter((d) => existsSync(d.file));
}

/** The data set file: the command's argument, a bundled demo data set, or one the user picks. */
async function askFile(ctx: FeatureContext, arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const demo = demoDataSets(ctx);
  if (demo.length) {
    const choose = { label: '$(folder-opened) Choose a File…', description: 'CSV, TSV, JSONL or JSON with a text and a label column', file: '' };
    const pick = await vscode.window.showQuickPick([choose, ...demo], { title: 'Data set to train probes on', ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.file) return pick.file;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Train probes', filters: { 'Labelled data': ['csv', 'tsv', 'jsonl', 'json'] } });
  return picked?.[0]?.fsPath;
}

/** Asks for the data set and its columns; undefined when the user backs out. */
async function askSpec(ctx: FeatureContext, arg: unknown): Promise<{ spec: ProbeDatasetSpec; pooling: ProbePooling } | undefined> {
  const file = await askFile(ctx, arg);
  if (!file) return undefined;
  const info = await ctx.request('probe/inspectDataset', { path: file });
  const text = await pickColumn(info.columns, 'Text column', false, /^(text|sentence|prompt|input)$/i);
  if (!text) return undefined;
  const label = await pickColumn(info.columns.filter((c) => c !== text), 'Label column', false, /^(label|class|target|y)$/i);
  if (!label) return undefined;
  const rest = info.columns.filter((c) => c !== text && c !== label);
  const group = rest.length ? await pickColumn(rest, 'Group column (examples of a group never straddle train and test)', true, /^(group|source|author|id)$/i) : NONE;
  if (!group) return undefined;
  const span = rest.length ? await pickColumn(rest, 'Span column ([start, end] in the text; for pooling over a span)', true, /^span$/i) : NONE;
  if (!span) return undefined;
  const poolings: { label: string; description: string; value: ProbePooling }[] = [
    { label: 'Last token', description: 'the state of the final token', value: 'last' },
    { label: 'Mean over tokens', description: 'the average state over the text', value: 'mean' },
    ...(span !== NONE ? [{ label: 'Marked span', description: `the average state over the ${span} span`, value: 'span' as const }] : []),
  ];
  const pooling = await vscode.window.showQuickPick(poolings, { title: 'Pooling', ignoreFocusOut: true });
  if (!pooling) return undefined;
  return {
    spec: { path: file, format: info.format, textColumn: text, labelColumn: label, groupColumn: group === NONE ? undefined : group, spanColumn: span === NONE ? undefined : span },
    pooling: pooling.value,
  };
}

type Outcome = { run: ProbeRunResult } | { malformed: string; message: string };

/** Runs probe/train; a BAD_DATASET answer with listed lines comes back as `malformed`. */
async function train(ctx: FeatureContext, params: ProbeTrainParams): Promise<Outcome | undefined> {
  return ctx.withProgress('Training probes', async (opts) => {
    try {
      return { run: await ctx.request('probe/train', params, opts) };
    } catch (e) {
      const err = e as { code?: string; detail?: string; message: string };
      if (err.code === 'BAD_DATASET' && err.detail && !params.dataset.skipMalformed) return { malformed: err.detail, message: err.message };
      throw e;
    }
  });
}

export async function probeTrain(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const asked = await askSpec(ctx, arg);
  if (!asked) return;
  const model = await ctx.ensureModel();
  await fs.mkdir(probesDir(ctx), { recursive: true });
  const stem = `${path.basename(asked.spec.path).replace(/\.\w+$/, '')}-${asked.pooling}-${model.name.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const params: ProbeTrainParams = { modelId: model.id, dataset: asked.spec, pooling: asked.pooling, cacheDir: cacheDir(ctx), saveTo: path.join(probesDir(ctx), `${stem}.probe.json`) };
  let outcome = await train(ctx, params);
  if (outcome && 'malformed' in outcome) {
    const lines = outcome.malformed.split('\n');
    ctx.log.warn(`Malformed rows in ${asked.spec.path}:\n${outcome.malformed}`);
    const pick = await vscode.window.showWarningMessage(`layerlens: ${lines.length} malformed row(s) in ${path.basename(asked.spec.path)}: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? '; …' : ''}`, { modal: true, detail: outcome.malformed }, 'Skip Them and Train');
    if (!pick) return;
    params.dataset = { ...params.dataset, skipMalformed: true };
    outcome = await train(ctx, params);
  }
  if (!outcome || !('run' in outcome)) return;
  await saveRun(params.saveTo!, outcome.run);
  await ctx.showResult({
    kind: 'probe',
    title: `Probes: ${outcome.run.datasetName} (${outcome.run.pooling})`,
    modelId: model.id,
    modelName: model.name,
    request: { method: 'probe/train', params },
    result: outcome.run,
  });
}
