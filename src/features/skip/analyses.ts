// layerlens.skipEarlyExit and layerlens.skipSelfSpec: open the skip panel on the early-exit simulator
// or on a self-speculative decoding run (LayerSkip-style early-exit draft at mid depth) for the prompt.
import * as vscode from 'vscode';
import type { EarlyExitResult, SelfSpecResult, SidecarMethod } from '../../../protocol';
import type { FeatureContext, PromptRef } from '../api';
import { firstWords } from './sweep';

async function show(ctx: FeatureContext, prompt: PromptRef, title: string, method: Extract<SidecarMethod, 'skip/earlyExit' | 'skip/selfSpec'>, params: Record<string, unknown>) {
  const model = await ctx.ensureModel();
  const full = { modelId: model.id, text: prompt.text, ...params };
  // The method/params pair is typed per call site below; the request is generic here.
  const result = (await ctx.withProgress(title, (opts) => ctx.request(method, full as never, opts))) as EarlyExitResult | SelfSpecResult | undefined;
  if (!result) return;
  await ctx.showResult({
    kind: 'skip',
    title: `${title}: ${firstWords(prompt.text)}`,
    modelId: model.id,
    modelName: model.name,
    prompt,
    tokens: result.analysis === 'selfSpec' ? result.promptTokens : result.tokens,
    request: { method, params: full },
    result,
  });
}

function promptOrWarn(ctx: FeatureContext, arg: unknown): PromptRef | undefined {
  const prompt = ctx.resolvePrompt(arg);
  if (!prompt) void vscode.window.showWarningMessage('layerlens: put the cursor in a prompt (or select text) first.');
  return prompt;
}

export async function skipEarlyExit(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = promptOrWarn(ctx, arg);
  if (prompt) await show(ctx, prompt, 'Early exit', 'skip/earlyExit', {});
}

export async function skipSelfSpec(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = promptOrWarn(ctx, arg);
  if (!prompt) return;
  const model = await ctx.ensureModel();
  const exitLayer = Math.max(0, Math.floor(model.layerMap.numLayers / 2) - 1);
  await show(ctx, prompt, 'Self-speculative decoding', 'skip/selfSpec', { mode: { kind: 'earlyExit', exitLayer }, draftLength: 'adaptive', maxNewTokens: ctx.config('skip.maxNewTokens', 48) });
}
