// The skip methods through the real sidecar server (vscode-jsonrpc over in-memory streams) on
// stories260K: sweep with progress partials and a corpus, early exit, self-speculative decoding,
// custom plans, and clear errors for bad input.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ProgressParams } from '../../../protocol';
import { errorOf, startInMemorySidecar, type InMemorySidecar } from '../support/rpc';

const MODEL = path.resolve(__dirname, '../../../../shared/models/stories260K');
let sidecar: InMemorySidecar;
let progress: ProgressParams[];
let modelId: string;
const text = 'Once upon a time, there was a little girl named Lily. She loved to play';
const call: InMemorySidecar['call'] = (method, params, cancel) => sidecar.call(method, params, cancel);
const code = async (p: Promise<unknown>): Promise<string | undefined> => (await errorOf(p))?.code;

before(async () => {
  sidecar = startInMemorySidecar();
  progress = sidecar.progress;
  modelId = (await call('model/load', { path: MODEL, provider: 'cpu' })).id;
});

after(() => sidecar.close());

test('skip/sweep scores every plan, marks the answer, streams partial entries', async () => {
  const tokens = (await call('model/tokenize', { modelId, text })).tokens;
  const res = await call('skip/sweep', { modelId, text, answerIndex: tokens.length - 1, progressToken: 'sweep-1' });
  assert.equal(res.analysis, 'sweep');
  assert.equal(res.answerIndex, tokens.length - 1);
  assert.deepEqual(res.tokens, tokens);
  assert.equal(res.entries.length, 5 + 10 + 4);
  for (const e of res.entries) {
    assert.equal(e.answer?.tokenId, tokens.at(-1)!.id);
    assert.equal(typeof e.answer?.top1Text, 'string');
    assert.equal(e.klPerToken.length, tokens.length);
  }
  const mine = progress.filter((p) => p.token === 'sweep-1');
  assert.ok(mine.length >= 1);
  assert.equal(mine.at(-1)!.fraction, 1);
  assert.equal((mine.at(-1)!.partial as { entries: unknown[] }).entries.length, res.entries.length);
  // JSON keeps the sublayer stats finite (null only where a block is not separable).
  assert.ok(res.sublayer.means.attnRelNorm.every((v) => typeof v === 'number'));
});

test('skip/sweep over a corpus, and bad corpora / answers are refused with codes', async () => {
  const corpus = { content: '{"text":"Tom had a big red ball."}\n"The sun was shining."\n', format: 'jsonl' as const };
  const res = await call('skip/sweep', { modelId, text, corpus, options: { sublayers: false, swaps: false } });
  assert.equal(res.texts, 3);
  assert.equal(await code(call('skip/sweep', { modelId, text, corpus: { content: '{oops', format: 'jsonl' } })), 'BAD_DATASET');
  assert.equal(await code(call('skip/sweep', { modelId, text, answerIndex: 999 })), 'BAD_REQUEST');
  assert.equal(await code(call('skip/sweep', { modelId, text, options: { spans: [7] } })), 'BAD_REQUEST');
  // One token: nothing to predict, so no cross-entropy (null), but KL and agreement still exist.
  const one = await call('skip/sweep', { modelId, ids: [1], options: { swaps: false, sublayers: false } });
  assert.equal(one.baseCe, null);
  assert.ok(one.entries.every((e) => e.ce === null && e.kl >= 0));
});

test('skip/earlyExit returns curves for the three rules', async () => {
  const res = await call('skip/earlyExit', { modelId, text });
  assert.deepEqual(res.rules.map((r) => r.rule), ['maxProb', 'entropy', 'stable']);
  assert.equal(res.maxProb.length, 5);
  assert.equal(await code(call('skip/earlyExit', { modelId, text, thresholds: { maxProb: [] } })), 'BAD_REQUEST');
});

test('skip/selfSpec is lossless and reports texts; bad drafts are refused', async () => {
  const res = await call('skip/selfSpec', { modelId, text, mode: { kind: 'earlyExit', exitLayer: 2 }, maxNewTokens: 12 });
  assert.equal(res.equalsGreedy, true);
  assert.deepEqual(res.ids, res.greedy.ids);
  assert.equal(res.tokens.map((t) => t.text).join('').length > 0, true);
  assert.equal(typeof res.text, 'string');
  assert.equal(await code(call('skip/selfSpec', { modelId, text, mode: { kind: 'earlyExit', exitLayer: 4 } })), 'BAD_REQUEST');
  assert.equal(await code(call('skip/selfSpec', { modelId, text, mode: { kind: 'skipSet', skip: [] } })), 'BAD_REQUEST');
  assert.equal(await code(call('skip/selfSpec', { modelId, text, mode: { kind: 'earlyExit', exitLayer: 1 }, draftLength: 0 })), 'BAD_REQUEST');
});

test('skip/runPlan compares a plan with the model; bad plans are refused', async () => {
  const plan = { slots: [{ layer: 0 }, { layer: 1 }, { layer: 3 }, { layer: 4 }] };
  const res = await call('skip/runPlan', { modelId, text, plan, maxNewTokens: 8 });
  const plain = await call('model/generate', { modelId, text, maxNewTokens: 8 });
  assert.deepEqual(res.original.ids, plain.ids);
  assert.equal(res.modified.ids.length, 8);
  assert.ok(res.klPerToken.some((k) => k > 0));
  assert.equal(await code(call('skip/runPlan', { modelId, text, plan: { slots: [{ layer: 9 }] } })), 'BAD_REQUEST');
  assert.equal(await code(call('skip/runPlan', { modelId, text, plan: { slots: 'x' } as never })), 'BAD_REQUEST');
});
