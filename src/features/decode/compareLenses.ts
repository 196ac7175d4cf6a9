// layerlens.compareLenses: every lens available for the loaded model (logit, and the fitted shortcut /
// tuned lenses) on held-out text: per-layer KL to the output, top-1 agreement and next-token
// cross-entropy, written as a table to the layerlens output channel.
import * as vscode from 'vscode';
import type { CompareLensesResult, LensEval, LensLayerEval } from '../../../protocol';
import type { FeatureContext } from '../api';
import { pickCorpus } from './corpus';
import { lensDir } from './lensDir';

/** A Markdown table: one row per layer, KL / top-1 / CE (and R² where fitted) per lens. */
export function compareTable(evals: LensEval[]): string {
  const cols = (e: LensEval) => (e.layers.some((l) => l.r2 !== undefined) ? ['KL', 'top-1', 'CE', 'R²'] : ['KL', 'top-1', 'CE']);
  const cell = (l: LensLayerEval, c: string) => (c === 'KL' ? l.kl : c === 'top-1' ? l.top1 : c === 'CE' ? l.ce : (l.r2 ?? NaN)).toFixed(3);
  const head = ['layer', ...evals.flatMap((e) => cols(e).map((c) => `${e.lens} ${c}`))];
  const rows = evals[0].layers.map((_, i) => [i === 0 ? 'embed' : `block ${i - 1}`, ...evals.flatMap((e) => cols(e).map((c) => cell(e.layers[i], c)))]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export async function compareLenses(ctx: FeatureContext, arg?: unknown): Promise<CompareLensesResult | undefined> {
  const corpus = await pickCorpus(ctx, 'Held-out text to compare the lenses on', (arg as { files?: string[] } | undefined)?.files);
  if (!corpus) return undefined;
  const model = await ctx.ensureModel();
  const res = await ctx.withProgress('Comparing lenses', (opts) => ctx.request('decode/compareLenses', { modelId: model.id, corpus, lensDir: lensDir(ctx) }, opts));
  if (!res) return undefined;
  ctx.log.info(`Lenses on ${res.tokens} held-out tokens of ${model.name}:\n${compareTable(res.evals)}`);
  ctx.log.show(true);
  if (res.evals.length === 1) void vscode.window.showInformationMessage('layerlens: only the logit lens is available; fit a shortcut or tuned lens to compare.', 'Fit Lens').then((p) => p && vscode.commands.executeCommand('layerlens.fitLens'));
  return res;
}
