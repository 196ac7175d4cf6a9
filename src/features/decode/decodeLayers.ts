// layerlens.decodeLayers: decode every layer of the prompt with the default lens (falling back to the
// logit lens when the chosen lens has not been fitted) and show the decode panel.
import * as vscode from 'vscode';
import type { DecodeLayersParams, LensKind } from '../../../protocol';
import type { FeatureContext } from '../api';
import { firstWords } from '../skip/sweep';
import { lensDir } from './lensDir';

const LENSES: LensKind[] = ['logit', 'shortcut', 'tuned'];

export async function decodeLayers(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = ctx.resolvePrompt(arg);
  if (!prompt) {
    void vscode.window.showWarningMessage('layerlens: put the cursor in a prompt (or select text) to decode its layers.');
    return;
  }
  const model = await ctx.ensureModel();
  const configured = ctx.config<LensKind>('defaultLens', 'logit');
  const lens = LENSES.includes(configured) ? configured : 'logit';
  const base: DecodeLayersParams = { modelId: model.id, text: prompt.text, topK: ctx.config('topK', 5), lensDir: lensDir(ctx) };
  let params: DecodeLayersParams = { ...base, lenses: [lens] };
  const result = await ctx.withProgress('Decoding layers', async (opts) => {
    try {
      return await ctx.request('decode/layers', params, opts);
    } catch (e) {
      if (lens === 'logit' || !/No \w+ lens has been fitted/.test((e as Error).message)) throw e;
      void vscode.window.showInformationMessage(`layerlens: ${(e as Error).message}. Showing the logit lens.`, 'Fit Lens').then((pick) => {
        if (pick) void vscode.commands.executeCommand('layerlens.fitLens');
      });
      params = { ...base, lenses: ['logit'] };
      return ctx.request('decode/layers', params, opts);
    }
  });
  if (!result) return;
  await ctx.showResult({
    kind: 'decode',
    title: `Decode layers: ${firstWords(prompt.text)}`,
    modelId: model.id,
    modelName: model.name,
    prompt,
    tokens: result.tokens,
    request: { method: 'decode/layers', params },
    result,
  });
}
