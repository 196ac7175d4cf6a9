// layerlens.skipSweep: sweep single-block skips, sublayer skips and swaps (plus repeats / spans when
// configured) over the prompt, and show the skip panel. layerlens.skipSweepCorpus: the same over a
// JSONL / text corpus file chosen by the user, scored against the prompt's model.
import * as vscode from 'vscode';
import type { SkipSweepParams, SweepOptions } from '../../../protocol';
import type { FeatureContext, PromptRef } from '../api';

/** Sweep options from the settings layerlens.skip.*. */
export function sweepOptions(ctx: FeatureContext): SweepOptions {
  return {
    repeats: ctx.config('skip.repeats', false),
    allSwaps: ctx.config('skip.allSwaps', false),
    spans: ctx.config<number[]>('skip.spans', []),
  };
}

/** Runs a sweep under progress (partial results go to the panel on re-runs) and shows it. */
export async function runSweep(ctx: FeatureContext, prompt: PromptRef, extra: Partial<SkipSweepParams> = {}): Promise<void> {
  const model = await ctx.ensureModel();
  const params: SkipSweepParams = { modelId: model.id, text: prompt.text, options: sweepOptions(ctx), ...extra };
  const result = await ctx.withProgress('Skip sweep', (opts) => ctx.request('skip/sweep', params, opts));
  if (!result) return;
  await ctx.showResult({
    kind: 'skip',
    title: `Skip sweep: ${firstWords(prompt.text)}`,
    modelId: model.id,
    modelName: model.name,
    prompt,
    tokens: result.tokens,
    request: { method: 'skip/sweep', params },
    result,
  });
}

export async function skipSweep(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = ctx.resolvePrompt(arg);
  if (!prompt) {
    void vscode.window.showWarningMessage('layerlens: put the cursor in a prompt (or select text) to run a skip sweep.');
    return;
  }
  const answerIndex = (arg as { answerIndex?: unknown } | undefined)?.answerIndex;
  await runSweep(ctx, prompt, typeof answerIndex === 'number' ? { answerIndex } : {});
}

export async function skipSweepCorpus(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = ctx.resolvePrompt(arg);
  if (!prompt) {
    void vscode.window.showWarningMessage('layerlens: put the cursor in a prompt first; the corpus is swept with it.');
    return;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Corpus (JSONL or text)': ['jsonl', 'txt', 'md'] }, title: 'Corpus for the skip sweep' });
  if (!picked?.[0]) return;
  const content = new TextDecoder().decode(await vscode.workspace.fs.readFile(picked[0]));
  await runSweep(ctx, prompt, { corpus: { content, format: picked[0].path.endsWith('.jsonl') ? 'jsonl' : 'text' } });
}

export function firstWords(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
