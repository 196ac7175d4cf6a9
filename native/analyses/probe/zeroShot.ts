// The zero-shot baseline of a probing run ("Decoding Emotion" compares probes with prompting the model
// itself): for each example, the model's next-token distribution after the text, restricted to one word
// per label; the predicted label is the most likely word. The scored token of a word is the first token
// that " word" adds after the text's own tokens, so any tokenizer works.
import type { ZeroShotResult } from '../../../protocol';
import { softmax } from '../skip/math';
import { DatasetError, type ProbeDataset } from './dataset';

export interface ZeroShotContext {
  encode(text: string): { ids: number[] };
  tokenText(id: number): string;
  nextLogits(ids: number[], opts: { signal?: AbortSignal }): Promise<Float32Array>;
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

/** The first token " word" adds after `text` (undefined when the word merges into the text's last token). */
function wordToken(ctx: ZeroShotContext, text: string, textIds: number[], word: string): number | undefined {
  const ids = ctx.encode(`${text} ${word.trim()}`).ids;
  const prefixKept = textIds.every((id, i) => ids[i] === id);
  return prefixKept && ids.length > textIds.length ? ids[textIds.length] : undefined;
}

export async function zeroShotBaseline(ctx: ZeroShotContext, ds: ProbeDataset, words: Record<string, string>): Promise<ZeroShotResult> {
  const missing = ds.labels.filter((l) => typeof words[l] !== 'string' || !words[l].trim());
  if (missing.length) throw new DatasetError(`Give a word for every label (missing: ${missing.join(', ')}).`);
  const tokens: ZeroShotResult['tokens'] = {};
  const hits = ds.labels.map(() => 0);
  const seen = ds.labels.map(() => 0);
  let trueProb = 0;
  let scored = 0;
  for (let i = 0; i < ds.examples.length; i++) {
    ctx.signal?.throwIfAborted();
    const { text } = ds.examples[i];
    const ids = ctx.encode(text).ids;
    if (ctx.maxTokens !== undefined && ids.length + 1 > ctx.maxTokens) continue;
    const wordIds = ds.labels.map((l) => wordToken(ctx, text, ids, words[l]));
    if (wordIds.some((id) => id === undefined)) continue;
    ds.labels.forEach((l, c) => (tokens[l] ??= { id: wordIds[c]!, text: ctx.tokenText(wordIds[c]!) }));
    const probs = softmax(await ctx.nextLogits(ids, { signal: ctx.signal }));
    const scores = wordIds.map((id) => probs[id!]);
    const predicted = scores.indexOf(Math.max(...scores));
    const truth = ds.y[i];
    seen[truth]++;
    if (predicted === truth) hits[truth]++;
    trueProb += scores[truth];
    scored++;
    if (i % 16 === 0) ctx.onProgress?.(i / ds.examples.length, `Zero-shot: ${i} of ${ds.examples.length} examples`);
  }
  if (!scored) throw new DatasetError('No example could be scored: each label word must start a new token after the text.');
  return {
    words: Object.fromEntries(ds.labels.map((l) => [l, words[l].trim()])),
    tokens,
    examples: scored,
    accuracy: hits.reduce((a, b) => a + b, 0) / scored,
    meanTrueProb: trueProb / scored,
    perLabel: ds.labels.map((label, c) => ({ label, examples: seen[c], accuracy: seen[c] ? hits[c] / seen[c] : NaN })),
  };
}
