// Identity plan vs the monolithic model on every graph form (shared models and fixtures), full
// sequence on 1, 7 and 200 tokens and token-by-token with the KV cache.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { buildFixture, type FixtureOptions } from '../../../native/fixtures/index';
import { createEngine, type LayeredEngine } from '../../../native/engine/index';
import type { Mat } from '../../../native/engine/api';
import { concatRows, GENAI, GQA, maxAbsDiff, STORIES, tokenIds } from './helpers';

/** fp32: 1e-4 absolute. fp16: 4 half-precision ulps of the largest logit (rounding of unfused sums). */
function tolerance(engine: LayeredEngine, ref: Mat): number {
  if (engine.layerMap.dtype === 'float32') return 1e-4;
  let max = 0;
  for (const v of ref.data) max = Math.max(max, Math.abs(v));
  return 4 * 2 ** -10 * Math.max(max, 2 ** -4);
}

async function check(name: string, open: () => Promise<LayeredEngine>) {
  test(`${name}: identity plan equals the monolithic model (1, 7, 200 tokens; cached decoding; padded batch)`, async () => {
    const engine = await open();
    try {
      const V = Math.min(engine.layerMap.vocabSize, 1000);
      for (const n of [1, 7, 200]) {
        const ids = tokenIds(n, V, n + 1);
        const ref = await engine.forwardMonolithic(ids);
        const got = (await engine.forward(ids)).logits!;
        const d = maxAbsDiff(got, ref);
        assert.ok(d <= tolerance(engine, ref), `${n} tokens: max |diff| ${d}`);
      }
      const ids = tokenIds(9, V, 3);
      const ref = await engine.forwardMonolithic(ids);
      const cache = engine.newCache();
      const parts = [(await engine.forward(ids.slice(0, 4), { cache })).logits!];
      for (let i = 4; i < ids.length; i++) parts.push((await engine.forward([ids[i]], { cache })).logits!);
      const d = maxAbsDiff(concatRows(parts), ref);
      assert.ok(d <= tolerance(engine, ref), `cached decoding: max |diff| ${d}`);
      // a right-padded batch gives each sequence's own results
      const seqs = [tokenIds(5, V, 7), tokenIds(9, V, 8), tokenIds(1, V, 9)];
      const taps = ['blocks.0.resid_post' as const];
      const batched = await engine.forwardBatch(seqs, { taps });
      for (const [b, ids1] of seqs.entries()) {
        const single = await engine.forward(ids1, { taps });
        const db = maxAbsDiff(batched[b].logits!, single.logits!);
        assert.ok(db <= tolerance(engine, single.logits!), `batch sequence ${b}: max |diff| ${db}`);
        assert.ok(maxAbsDiff(batched[b].taps.get(taps[0])!, single.taps.get(taps[0])!) <= tolerance(engine, single.logits!));
      }
    } finally {
      await engine.dispose();
    }
  });
}

check('stories260K without past inputs', () => createEngine({ path: path.join(STORIES, 'onnx/model_no_past.onnx') }));
check('genai builder fp16 (shared, external data)', () => createEngine({ path: path.join(GENAI, 'model.onnx') }));
check('GQA + SkipLayerNorm fp16 (shared, int32 ids)', () => createEngine({ path: path.join(GQA, 'decoder.onnx') }));
const fixtures: FixtureOptions[] = [
  { form: 'pytorch', layers: 3 },
  { form: 'genai-builder' },
  { form: 'genai-builder', kvCache: false },
  { form: 'contrib-gqa' },
  { form: 'gpt2-fused', layers: 3 },
  { form: 'gpt2-fused', kvCache: false },
  { form: 'gpt2-fused', attentionMask: false },
  { form: 'pytorch', fp16: true },
];
for (const o of fixtures) {
  check(`fixture ${JSON.stringify(o)}`, () => createEngine({ model: buildFixture({ ...o, maxPositions: 256 }), baseDir: '.' }));
}

test('execution providers: an unavailable one falls back to CPU and says why', async () => {
  const engine = await createEngine({ model: buildFixture({ form: 'pytorch' }), baseDir: '.' }, { provider: 'cuda' });
  try {
    assert.equal(engine.provider, 'cpu');
    assert.match(engine.providerNote ?? '', /cuda unavailable/);
    const ids = [1, 2, 3];
    assert.ok(maxAbsDiff((await engine.forward(ids)).logits!, await engine.forwardMonolithic(ids)) <= 1e-4);
  } finally {
    await engine.dispose();
  }
  const auto = await createEngine({ model: buildFixture({ form: 'pytorch' }), baseDir: '.' }, { provider: 'auto' });
  assert.ok(['cpu', 'webgpu', 'cuda'].includes(auto.provider));
  if (auto.provider === 'cpu') assert.ok(auto.providerNote);
  await auto.dispose();
});
