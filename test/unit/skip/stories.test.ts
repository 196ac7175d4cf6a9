// The skip analyses on real models: stories260K (real TinyStories weights, via the model loader and
// its tokenizer) and tiny random fixtures in other graph forms, against full recomputation, models
// built without a block, and plain greedy decoding.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createEngine } from '../../../native/engine/index';
import { buildFixture } from '../../../native/fixtures/index';
import { loadModel, type LoadedModel } from '../../../native/model/load';
import { earlyExit } from '../../../native/analyses/skip/earlyExit';
import { earlyExitPlan, skipPlan } from '../../../native/analyses/skip/plans';
import { selfSpeculative } from '../../../native/analyses/skip/selfSpec';
import { decode, fixedPolicy, speculativeDecode } from '../../../native/analyses/skip/speculative';
import { basePass, layerSweep, runFromPrefix } from '../../../native/analyses/skip/sweep';
import type { DraftMode } from '../../../protocol/skip';
import { greedyNoCache, reference, top } from './reference';

const STORIES = path.resolve(__dirname, '../../../../shared/models/stories260K');
const DEMO = path.resolve(__dirname, '../../../demo/model');
const hasDemo = existsSync(path.join(DEMO, 'onnx/model.onnx')) && existsSync(path.join(DEMO, 'config.json'));
let model: LoadedModel;
let ids: number[];

before(async () => {
  model = await loadModel(STORIES, { id: 'stories', provider: 'cpu' });
  ids = model.encode({ text: 'Once upon a time, there was a little girl named Lily. She loved to play' }).ids;
});
after(async () => model?.dispose());

test('stories260K sweep: prefix reuse equals full recomputation for every plan', async () => {
  const res = await layerSweep(model.engine, { texts: [ids], answerIndex: ids.length - 1, options: { repeats: true, spans: [2] } });
  assert.equal(res.numLayers, 5);
  const base = (await model.engine.forward(ids)).logits!;
  for (const e of res.entries) {
    const ref = await reference(model.engine, ids, { plan: e.plan }, base);
    assert.ok(Math.abs(e.ce - ref.ce) < 1e-3, `${e.label}: ce ${e.ce} vs ${ref.ce}`);
    assert.ok(Math.abs(e.kl - ref.kl) < 1e-3, `${e.label}: kl ${e.kl} vs ${ref.kl}`);
    assert.ok(Math.abs(e.top1 - ref.top1) <= 1 / ids.length + 1e-9, `${e.label}: top1 ${e.top1} vs ${ref.top1}`);
  }
  // A real model: its own next-token loss is far below uniform (ln 512 = 6.2), skipping block 0 hurts.
  assert.ok(res.baseCe < 3, `base CE ${res.baseCe}`);
  const skip0 = res.entries.find((e) => e.kind === 'skip' && e.layers[0] === 0)!;
  assert.ok(skip0.ce > res.baseCe);
  assert.ok(res.sublayer.separable.every(Boolean));
  assert.ok(res.forwardEquivalents < 0.6 * 5 * (res.entries.length / 5));
});

test('skipping block i from the prefix equals the fixture built without block i', async () => {
  const layers = 3;
  const engine = await createEngine({ model: buildFixture({ form: 'pytorch', layers, seed: 3 }), baseDir: '.' });
  const fixtureIds = [5, 9, 13, 2, 7, 11];
  try {
    const base = await basePass(engine, fixtureIds);
    for (let i = 0; i < layers; i++) {
      const logits = await engine.head((await runFromPrefix(engine, base, skipPlan(layers, [i]))).residual);
      const keep = Array.from({ length: layers }, (_, l) => l).filter((l) => l !== i);
      const without = await createEngine({ model: buildFixture({ form: 'pytorch', layers, seed: 3, keepLayers: keep }), baseDir: '.' });
      const ref = await without.forwardMonolithic(fixtureIds);
      await without.dispose();
      let diff = 0;
      for (let j = 0; j < ref.data.length; j++) diff = Math.max(diff, Math.abs(ref.data[j] - logits.data[j]));
      assert.ok(diff < 1e-4, `skip ${i}: max |Δ| ${diff}`);
    }
  } finally {
    await engine.dispose();
  }
});

test('stories260K self-speculative decoding equals greedy in every drafting mode', async () => {
  const engine = model.engine;
  const greedy = (await decode(engine, ids, { maxNewTokens: 24 })).ids;
  assert.deepEqual(greedy.slice(0, 8), await greedyNoCache(engine, ids, 8));
  let rejected = 0;
  for (const [E, share] of [[0, true], [2, false], [3, true]] as const) {
    const run = await speculativeDecode(engine, ids, fixedPolicy(earlyExitPlan(5, E), 'adaptive'), { maxNewTokens: 24, shareExitCache: share });
    assert.deepEqual(run.ids, greedy, `exit after ${E}`);
    assert.equal(run.sharedCache, share);
    rejected += run.stats.drafted - run.stats.accepted;
  }
  assert.ok(rejected > 0, 'some drafts were rejected (rollback exercised)');
  const modes: DraftMode[] = [{ kind: 'skipSet', skip: [2, 3] }, { kind: 'dynamicExit' }, { kind: 'searchSkipSet' }];
  for (const mode of modes) {
    const res = await selfSpeculative(engine, { prompt: ids, mode, maxNewTokens: 8, draftLength: 3 });
    assert.equal(res.equalsGreedy, true, mode.kind);
    assert.deepEqual(res.ids, greedy.slice(0, 8));
  }
});

test('self-speculative decoding equals greedy on genai-builder and contrib-gqa fixtures', async () => {
  for (const form of ['genai-builder', 'contrib-gqa'] as const) {
    const engine = await createEngine({ model: buildFixture({ form, layers: 3, seed: 5, fp16: false }), baseDir: '.' });
    try {
      const prompt = [4, 8, 15, 16, 23];
      const greedy = (await decode(engine, prompt, { maxNewTokens: 16 })).ids;
      for (const policy of [fixedPolicy(earlyExitPlan(3, 0), 3), fixedPolicy(skipPlan(3, [1]), 'adaptive')]) {
        const run = await speculativeDecode(engine, prompt, policy, { maxNewTokens: 16 });
        assert.deepEqual(run.ids, greedy, form);
      }
    } finally {
      await engine.dispose();
    }
  }
});

test('stories260K early exit: a token exiting at block e predicts what the plan exiting at e predicts', async () => {
  const res = await earlyExit(model.engine, { ids });
  const byExit = await Promise.all([0, 1, 2, 3, 4].map(async (e) => (await model.engine.forward(ids, { plan: earlyExitPlan(5, e) })).logits!));
  const rule = res.rules.find((r) => r.rule === 'maxProb')!;
  rule.exitLayers.forEach((exits, i) => {
    let agree = 0;
    exits.forEach((e, t) => {
      const rowOf = (m: typeof byExit[0]) => m.data.subarray(t * m.cols, (t + 1) * m.cols);
      if (top(rowOf(byExit[e])) === top(rowOf(byExit[4]))) agree++;
    });
    assert.ok(Math.abs(rule.curve[i].agreement - agree / ids.length) < 1e-12);
  });
  // Exiting later never uses fewer blocks on average as the threshold rises.
  for (let i = 1; i < rule.curve.length; i++) assert.ok(rule.curve[i].avgLayers >= rule.curve[i - 1].avgLayers - 1e-12);
});

test('demo model: self-speculative decoding equals greedy in every drafting mode, sweep equals recomputation', { skip: !hasDemo && 'the demo model is not built' }, async () => {
  const demo = await loadModel(DEMO, { id: 'demo', provider: 'cpu' });
  try {
    const engine = demo.engine;
    const L = engine.layerMap.numLayers;
    const prompt = demo.encode({ text: 'Once upon a time, there was a little boy named Tim. He had a white bag. What colour was the bag? It was' }).ids;
    const greedy = (await decode(engine, prompt, { maxNewTokens: 16 })).ids;
    let rejected = 0;
    for (let E = 0; E < L - 1; E++) {
      const run = await speculativeDecode(engine, prompt, fixedPolicy(earlyExitPlan(L, E), 'adaptive'), { maxNewTokens: 16 });
      assert.deepEqual(run.ids, greedy, `exit after ${E}`);
      rejected += run.stats.drafted - run.stats.accepted;
    }
    assert.ok(rejected > 0);
    for (const mode of [{ kind: 'skipSet', skip: [1] }, { kind: 'dynamicExit' }, { kind: 'searchSkipSet' }] as DraftMode[]) {
      const res = await selfSpeculative(engine, { prompt, mode, maxNewTokens: 8, draftLength: 3 });
      assert.equal(res.equalsGreedy, true, mode.kind);
    }
    const res = await layerSweep(engine, { texts: [prompt], options: { sublayers: false } });
    const base = (await engine.forward(prompt)).logits!;
    for (const e of res.entries) {
      const ref = await reference(engine, prompt, { plan: e.plan }, base);
      assert.ok(Math.abs(e.kl - ref.kl) < 1e-3 && Math.abs(e.ce - ref.ce) < 1e-3, e.label);
    }
  } finally {
    await demo.dispose();
  }
});
