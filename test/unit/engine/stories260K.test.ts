// The layer-wise engine on the real stories260K model: identity plan vs the monolithic ONNX model,
// KV-cache decoding, and the numpy float64 llama2.c reference outputs in expected.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEngine, type LayeredEngine } from '../../../native/engine/index';
import { argmaxRow, concatRows, maxAbsDiff, row, STORIES, tokenIds } from './helpers';

interface Top { id: number; logit: number }
interface Case {
  prompt_ids: number[];
  greedy_new_token_ids: number[];
  last_prompt_position_top5: Top[];
  residual_stream_last_position: Record<string, { last_pos_l2_norm: number; logit_lens_top5: Top[] }>;
}
const expected = JSON.parse(fs.readFileSync(path.join(STORIES, 'expected.json'), 'utf8')) as { cases: Case[] };

describe('engine on stories260K (fp32, pytorch form, KV cache)', () => {
  let engine: LayeredEngine;
  before(async () => {
    engine = await createEngine({ path: path.join(STORIES, 'onnx/model.onnx') });
  });
  after(() => engine.dispose());

  test('maps 5 separable blocks with the residual tensors of the export', () => {
    const m = engine.layerMap;
    assert.equal(m.graphForm, 'pytorch');
    assert.equal(m.numLayers, 5);
    assert.equal(m.hiddenSize, 64);
    assert.equal(m.vocabSize, 512);
    assert.equal(m.embedOutput, '/model/embed_tokens/Gather_output_0');
    for (let i = 0; i < 5; i++) {
      assert.equal(m.blocks[i].residMid, `/model/layers.${i}/Add_output_0`);
      assert.equal(m.blocks[i].residOut, `/model/layers.${i}/Add_1_output_0`);
    }
    assert.equal(m.finalNormOutput, '/model/norm/Mul_1_output_0');
    assert.equal(engine.provider, 'cpu');
  });

  for (const n of [1, 7, 200]) {
    test(`identity plan equals the monolithic model on ${n} tokens (1e-4)`, async () => {
      const ids = [1, ...tokenIds(n - 1, 512, n)];
      const layered = await engine.forward(ids);
      const mono = await engine.forwardMonolithic(ids);
      assert.ok(maxAbsDiff(layered.logits!, mono) <= 1e-4);
    });
  }

  test('incremental decoding with the cache reproduces the full sequence (layer-wise and monolithic)', async () => {
    const ids = [1, ...tokenIds(11, 512, 5)];
    const full = (await engine.forward(ids)).logits!;
    const cache = engine.newCache();
    const parts = [(await engine.forward(ids.slice(0, 7), { cache })).logits!];
    for (let i = 7; i < ids.length; i++) parts.push((await engine.forward([ids[i]], { cache })).logits!);
    assert.equal(cache.length, ids.length);
    assert.ok(maxAbsDiff(concatRows(parts), full) <= 1e-4);
    const mcache = engine.newCache();
    const mparts = [await engine.forwardMonolithic(ids.slice(0, 7), { cache: mcache })];
    for (let i = 7; i < ids.length; i++) mparts.push(await engine.forwardMonolithic([ids[i]], { cache: mcache }));
    assert.ok(maxAbsDiff(concatRows(mparts), full) <= 1e-4);
  });

  test('truncating the cache rolls back: decoding again gives the same logits', async () => {
    const ids = [1, ...tokenIds(9, 512, 9)];
    const cache = engine.newCache();
    await engine.forward(ids, { cache });
    const a = (await engine.forward([42, 43], { cache })).logits!;
    cache.truncate(ids.length);
    assert.equal(cache.length, ids.length);
    const b = (await engine.forward([42, 43], { cache })).logits!;
    assert.ok(maxAbsDiff(a, b) <= 1e-6);
    const clone = cache.clone();
    clone.truncate(3);
    assert.equal(cache.length, ids.length + 2);
  });

  for (const c of expected.cases) {
    test(`greedy continuation and top-5 match the float64 reference for ${JSON.stringify(c.prompt_ids)}`, async () => {
      const cache = engine.newCache();
      let logits = (await engine.forward(c.prompt_ids, { cache, logits: 'last' })).logits!;
      const top = Array.from(row(logits, 0), (v, id) => ({ id, v })).sort((a, b) => b.v - a.v).slice(0, 5);
      assert.deepEqual(top.map((t) => t.id), c.last_prompt_position_top5.map((t) => t.id));
      top.forEach((t, i) => assert.ok(Math.abs(t.v - c.last_prompt_position_top5[i].logit) < 1e-3));
      const generated: number[] = [];
      for (let i = 0; i < c.greedy_new_token_ids.length; i++) {
        const next = argmaxRow(logits, 0);
        generated.push(next);
        logits = (await engine.forward([next], { cache, logits: 'last' })).logits!;
      }
      assert.deepEqual(generated, c.greedy_new_token_ids);
    });
  }

  test('residual taps match the reference norms and logit-lens top-5 at the last position', async () => {
    const c = expected.cases[0];
    const taps = ['embed', ...engine.layerMap.blocks.flatMap((b) => [`blocks.${b.index}.resid_mid`, `blocks.${b.index}.resid_post`])] as const;
    const res = await engine.forward(c.prompt_ids, { taps: [...taps] as never });
    const names = ['/model/embed_tokens/Gather_output_0', ...engine.layerMap.blocks.flatMap((b) => [b.residMid!, b.residOut])];
    for (let i = 0; i < taps.length; i++) {
      const m = res.taps.get(taps[i] as never)!;
      const last = { data: row(m, m.rows - 1), rows: 1, cols: m.cols };
      const ref = c.residual_stream_last_position[names[i]];
      const norm = Math.hypot(...last.data);
      assert.ok(Math.abs(norm - ref.last_pos_l2_norm) < 1e-3, `${taps[i]} norm ${norm} vs ${ref.last_pos_l2_norm}`);
      const lens = await engine.head(last);
      const top = Array.from(lens.data, (v, id) => ({ id, v })).sort((a, b) => b.v - a.v).slice(0, 5);
      assert.deepEqual(top.map((t) => t.id), ref.logit_lens_top5.map((t) => t.id), taps[i]);
    }
  });

  test('head weights (re-read after the load released them) reproduce the head; tied unembedding', async () => {
    const hw = engine.headWeights();
    assert.equal(hw.norm.kind, 'rms');
    assert.deepEqual([hw.unembed.rows, hw.unembed.cols], [512, 64]);
    const res = await engine.forward([1, 403, 407], { taps: ['blocks.4.resid_post'], logits: 'last' });
    const r = row(res.taps.get('blocks.4.resid_post')!, 2);
    const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
    const x = r.map((v, i) => (v / Math.sqrt(ms + hw.norm.eps)) * hw.norm.weight[i]);
    const lg = new Float32Array(512).map((_, v) => x.reduce((a, xi, i) => a + xi * hw.unembed.data[v * 64 + i], 0));
    assert.ok(maxAbsDiff({ data: lg, rows: 1, cols: 512 }, res.logits!) <= 1e-3);
    const w = engine.mlpOutputWeights(0)!;
    assert.deepEqual([w.rows, w.cols], [172, 64]);
  });

  test('resid_post of block L equals resid_pre of block L+1', async () => {
    const taps = engine.layerMap.blocks.flatMap((b) => [`blocks.${b.index}.resid_pre`, `blocks.${b.index}.resid_post`]);
    const res = await engine.forward([1, 403, 407], { taps: taps as never });
    for (let L = 0; L + 1 < 5; L++) {
      assert.equal(maxAbsDiff(res.taps.get(`blocks.${L}.resid_post`)!, res.taps.get(`blocks.${L + 1}.resid_pre`)!), 0);
    }
  });
});
