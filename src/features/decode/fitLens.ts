// layerlens.fitLens: fit a linear-shortcut or tuned lens for the loaded model on a corpus (the
// workspace's prompt files plus the bundled demo corpus, or files the user picks), cache it in the
// workspace storage, and report the held-out comparison with the logit lens.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CorpusSpec, FitLensResult, LensEval } from '../../../protocol';
import type { FeatureContext } from '../api';
import { lensDir } from './lensDir';

/** The default corpus: *.prompt.md files of the workspace and the extension's demo corpus. */
async function defaultCorpus(ctx: FeatureContext): Promise<CorpusSpec> {
  const prompts = await vscode.workspace.findFiles('**/*.prompt.md', '**/node_modules/**', 200);
  const files = prompts.map((u) => u.fsPath);
  const demo = path.join(ctx.extension.extensionPath, 'demo', 'data', 'heldout.jsonl');
  if (fs.existsSync(demo)) files.push(demo);
  return { files };
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** One line per layer: KL and top-1 of the logit lens vs the fitted lens. */
export function fitReport(res: FitLensResult): string {
  const [logit, fitted] = res.evals;
  const line = (e: LensEval, i: number) => `KL ${e.layers[i].kl.toFixed(3)} top-1 ${(100 * e.layers[i].top1).toFixed(0)}%`;
  return fitted.layers.map((l, i) => `layer ${i}: logit ${line(logit, i)} | ${res.kind} ${line(fitted, i)}${l.r2 !== undefined ? ` R² ${l.r2.toFixed(3)}` : ''}`).join('\n');
}

export async function fitLens(ctx: FeatureContext, arg?: unknown): Promise<FitLensResult | undefined> {
  const a = (arg ?? {}) as { kind?: 'shortcut' | 'tuned'; files?: string[] };
  const kinds: (vscode.QuickPickItem & { lens: 'shortcut' | 'tuned' })[] = [
    { label: 'Linear shortcut', description: 'least squares from each layer to the last (seconds)', lens: 'shortcut' },
    { label: 'Tuned lens', description: 'affine translators trained on KL to the output (longer)', lens: 'tuned' },
  ];
  const kind = a.kind ?? (await vscode.window.showQuickPick(kinds, { title: 'Fit which lens?' }))?.lens;
  if (!kind) return undefined;
  let corpus: CorpusSpec;
  if (a.files) corpus = { files: a.files };
  else {
    const sources: (vscode.QuickPickItem & { value: 'default' | 'pick' })[] = [
      { label: 'Workspace prompts + demo corpus', value: 'default' },
      { label: 'Choose files…', description: 'text, Markdown, JSONL or CSV', value: 'pick' },
    ];
    const pick = await vscode.window.showQuickPick(sources, { title: 'Corpus to fit the lens on' });
    if (!pick) return undefined;
    if (pick.value === 'pick') {
      const uris = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { Corpus: ['txt', 'md', 'jsonl', 'json', 'csv', 'tsv'] }, title: 'Corpus files' });
      if (!uris?.length) return undefined;
      corpus = { files: uris.map((u) => u.fsPath) };
    } else corpus = await defaultCorpus(ctx);
  }
  const model = await ctx.ensureModel();
  const res = await ctx.withProgress(`Fitting the ${kind} lens`, (opts) => ctx.request('decode/fitLens', { modelId: model.id, kind, corpus, lensDir: lensDir(ctx) }, opts));
  if (!res) return undefined;
  const L = res.evals[0].layers.length - 1;
  const before = mean(res.evals[0].layers.slice(0, L).map((l) => l.kl));
  const after = mean(res.evals[1].layers.slice(0, L).map((l) => l.kl));
  ctx.log.info(`${res.kind} lens (${res.cached ? 'cached' : 'fitted'}; ${res.trainTokens} train / ${res.heldOutTokens} held-out tokens) → ${res.file}\n${fitReport(res)}`);
  void vscode.window.showInformationMessage(
    `layerlens: ${res.kind} lens ${res.cached ? 'loaded from cache' : 'fitted'}: held-out KL to the output ${before.toFixed(3)} (logit lens) → ${after.toFixed(3)} nats, mean over layers.`,
  );
  return res;
}
