// layerlens.fitLens: fit a linear-shortcut or tuned lens for the loaded model on a corpus (the
// workspace's prompt files plus the bundled demo corpus, or files the user picks), cache it in the
// workspace storage, and report the held-out comparison with the logit lens (per layer in a panel on request).
import * as vscode from 'vscode';
import type { FitLensResult } from '../../../protocol';
import type { FeatureContext } from '../api';
import { compareTable } from './compareLenses';
import { pickCorpus } from './corpus';
import { lensDir } from './lensDir';

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

export async function fitLens(ctx: FeatureContext, arg?: unknown): Promise<FitLensResult | undefined> {
  const a = (arg ?? {}) as { kind?: 'shortcut' | 'tuned'; files?: string[] };
  const kinds: (vscode.QuickPickItem & { lens: 'shortcut' | 'tuned' })[] = [
    { label: 'Linear shortcut', description: 'least squares from each layer to the last (seconds)', lens: 'shortcut' },
    { label: 'Tuned lens', description: 'affine translators trained on KL to the output (longer)', lens: 'tuned' },
  ];
  const kind = a.kind ?? (await vscode.window.showQuickPick(kinds, { title: 'Fit which lens?' }))?.lens;
  if (!kind) return undefined;
  const corpus = await pickCorpus(ctx, 'Corpus to fit the lens on', a.files);
  if (!corpus) return undefined;
  const model = await ctx.ensureModel();
  const params = { modelId: model.id, kind, corpus, lensDir: lensDir(ctx) };
  const res = await ctx.withProgress(`Fitting the ${kind} lens`, (opts) => ctx.request('decode/fitLens', params, opts));
  if (!res) return undefined;
  const L = res.evals[0].layers.length - 1;
  const before = mean(res.evals[0].layers.slice(0, L).map((l) => l.kl));
  const after = mean(res.evals[1].layers.slice(0, L).map((l) => l.kl));
  ctx.log.info(`${res.kind} lens (${res.cached ? 'cached' : 'fitted'}; ${res.trainTokens} train / ${res.heldOutTokens} held-out tokens) → ${res.file}\n${compareTable(res.evals)}`);
  // Not opened by itself: a fit is often started from a decode panel that should keep the focus.
  void vscode.window
    .showInformationMessage(
      `layerlens: ${res.kind} lens ${res.cached ? 'loaded from cache' : 'fitted'}: held-out KL to the output ${before.toFixed(3)} (logit lens) → ${after.toFixed(3)} nats, mean over layers.`,
      'Show per Layer',
    )
    .then((pick) => pick && ctx.showResult({ kind: 'decode', title: `${res.kind === 'tuned' ? 'Tuned' : 'Linear-shortcut'} lens fit: ${model.name}`, modelId: model.id, modelName: model.name, request: { method: 'decode/fitLens', params }, result: res }))
    .then(undefined, (e: unknown) => ctx.log.error(`Showing the lens fit: ${e instanceof Error ? e.message : String(e)}`));
  return res;
}
