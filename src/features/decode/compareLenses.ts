// layerlens.compareLenses: every lens available for the loaded model (logit, and the fitted shortcut /
// tuned lenses) on held-out text: per-layer KL to the output, top-1 agreement and next-token
// cross-entropy, shown in a decode panel (charts, CSV / JSON export) and logged as a table.
import * as vscode from 'vscode';
import { lensEvalTable, type CompareLensesResult, type LensEval } from '../../../protocol';
import type { FeatureContext } from '../api';
import { pickCorpus } from './corpus';
import { lensDir } from './lensDir';

/** A Markdown table: one row per layer, KL / top-1 / CE (and R² where fitted) per lens. */
export function compareTable(evals: LensEval[]): string {
  const { header, rows } = lensEvalTable(evals);
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(3) : c)));
  return [header, header.map(() => '---'), ...cells].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export async function compareLenses(ctx: FeatureContext, arg?: unknown): Promise<CompareLensesResult | undefined> {
  const corpus = await pickCorpus(ctx, 'Held-out text to compare the lenses on', (arg as { files?: string[] } | undefined)?.files);
  if (!corpus) return undefined;
  const model = await ctx.ensureModel();
  const params = { modelId: model.id, corpus, lensDir: lensDir(ctx) };
  const res = await ctx.withProgress('Comparing lenses', (opts) => ctx.request('decode/compareLenses', params, opts));
  if (!res) return undefined;
  ctx.log.info(`Lenses on ${res.tokens} held-out tokens of ${model.name}:\n${compareTable(res.evals)}`);
  await ctx.showResult({ kind: 'decode', title: `Lenses compared: ${model.name}`, modelId: model.id, modelName: model.name, request: { method: 'decode/compareLenses', params }, result: res });
  if (res.evals.length === 1) void vscode.window.showInformationMessage('layerlens: only the logit lens is available; fit a shortcut or tuned lens to compare.', 'Fit Lens').then((p) => p && vscode.commands.executeCommand('layerlens.fitLens'));
  return res;
}
