// Execution plans on a 4-layer pytorch-style fixture, each checked against an independent reference:
// the same weights built as a different model (without a block, with a block repeated, reordered,
// without a sublayer) and run directly in onnxruntime.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ExecutionPlan, TapName } from '../../../protocol';
import { buildFixture, type FixtureOptions } from '../../../native/fixtures/index';
import { createEngine, type LayeredEngine } from '../../../native/engine/index';
import type { Mat } from '../../../native/engine/api';
import { concatRows, maxAbsDiff, ortLogits, row, tokenIds } from './helpers';

const base: FixtureOptions = { form: 'pytorch', layers: 4, hidden: 32, vocab: 96, seed: 11, maxPositions: 64 };
const ids = tokenIds(7, 96, 4);
const plan = (layers: number[], extra: Partial<ExecutionPlan> = {}): ExecutionPlan => ({ slots: layers.map((layer) => ({ layer })), ...extra });
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e) => (e as { code?: string }).code);

describe('execution plans', () => {
  let engine: LayeredEngine;
  before(async () => {
    engine = await createEngine({ model: buildFixture(base), baseDir: '.' });
  });
  after(() => engine.dispose());

  const reference = (o: Partial<FixtureOptions>) => ortLogits(buildFixture({ ...base, ...o }), ids);
  const logits = async (p: ExecutionPlan) => (await engine.forward(ids, { plan: p })).logits!;

  test('skipping block i equals the model built without block i', async () => {
    for (const i of [0, 2, 3]) {
      const keep = [0, 1, 2, 3].filter((l) => l !== i);
      assert.ok(maxAbsDiff(await logits(plan(keep)), await reference({ keepLayers: keep })) <= 1e-4, `skip ${i}`);
    }
  });

  test('repeating and reordering blocks equal the models built that way', async () => {
    for (const layers of [[0, 1, 1, 2, 3], [1, 0, 2, 3], [3, 2, 1, 0]]) {
      assert.ok(maxAbsDiff(await logits(plan(layers)), await reference({ keepLayers: layers })) <= 1e-4, layers.join(','));
    }
  });

  test('exitAfter slot k equals the model with only the first k+1 blocks', async () => {
    assert.ok(maxAbsDiff(await logits(plan([0, 1, 2, 3], { exitAfter: 1 })), await reference({ keepLayers: [0, 1] })) <= 1e-4);
  });

  test('skipping a sublayer passes the residual through', async () => {
    const attnOff = plan([0, 1, 2, 3]);
    attnOff.slots[1].attn = false;
    assert.ok(maxAbsDiff(await logits(attnOff), await reference({ omit: [{ index: 1, sublayer: 'attn' }] })) <= 1e-4);
    const mlpOff = plan([0, 1, 2, 3]);
    mlpOff.slots[2].mlp = false;
    assert.ok(maxAbsDiff(await logits(mlpOff), await reference({ omit: [{ index: 2, sublayer: 'mlp' }] })) <= 1e-4);
  });

  test('patching the embedding with another token\'s embedding equals running that token', async () => {
    const other = [...ids];
    other[3] = 42;
    const emb = (await engine.forward(other, { taps: ['embed'], logits: 'none' })).taps.get('embed')!;
    const patched = await logits(plan([0, 1, 2, 3], { patches: [{ tap: 'embed', position: 3, vector: Array.from(row(emb, 3)) }] }));
    assert.ok(maxAbsDiff(patched, (await engine.forward(other)).logits!) <= 1e-4);
  });

  test('patching every position of resid_pre of block 2 with another run gives that run\'s logits', async () => {
    const other = tokenIds(7, 96, 99);
    const res = await engine.forward(other, { taps: ['blocks.2.resid_pre'] });
    const r = res.taps.get('blocks.2.resid_pre')!;
    const patches = ids.map((_, p) => ({ tap: 'blocks.2.resid_pre' as TapName, position: p, vector: Array.from(row(r, p)) }));
    const patched = await engine.forward(ids, { plan: plan([0, 1, 2, 3], { patches }) });
    // keys/values of earlier positions in block 2 come from the patched residual too, so everything matches
    assert.ok(maxAbsDiff(patched.logits!, res.logits!) <= 1e-4);
  });

  test('per-slot KV cache: token-by-token decoding under a plan with a repeated block equals the full sequence', async () => {
    const p = plan([0, 1, 1, 3]);
    p.slots[3].attn = false;
    const full = (await engine.forward(ids, { plan: p })).logits!;
    const cache = engine.newCache(p);
    const parts: Mat[] = [(await engine.forward(ids.slice(0, 3), { plan: p, cache })).logits!];
    for (let i = 3; i < ids.length; i++) parts.push((await engine.forward([ids[i]], { plan: p, cache })).logits!);
    assert.ok(maxAbsDiff(concatRows(parts), full) <= 1e-4);
  });

  test('taps: resid_pre + attn_out = resid_mid, resid_mid + mlp_out = resid_post, last resid_post gives the logits', async () => {
    const taps = ['blocks.1.resid_pre', 'blocks.1.attn_out', 'blocks.1.resid_mid', 'blocks.1.mlp_out', 'blocks.1.resid_post', 'blocks.3.resid_post', 'final_norm', 'logits'] as TapName[];
    const res = await engine.forward(ids, { taps });
    const t = (n: string) => res.taps.get(n as TapName)!;
    const add = (a: Mat, b: Mat): Mat => ({ ...a, data: a.data.map((v, i) => v + b.data[i]) });
    assert.ok(maxAbsDiff(add(t('blocks.1.resid_pre'), t('blocks.1.attn_out')), t('blocks.1.resid_mid')) <= 1e-5);
    assert.ok(maxAbsDiff(add(t('blocks.1.resid_mid'), t('blocks.1.mlp_out')), t('blocks.1.resid_post')) <= 1e-5);
    assert.ok(maxAbsDiff(await engine.head(t('blocks.3.resid_post')), res.logits!) <= 1e-5);
    assert.ok(maxAbsDiff(await engine.finalNorm(t('blocks.3.resid_post')), t('final_norm')) <= 1e-6);
    assert.equal(t('logits'), res.logits);
  });

  test('stage primitives: a shared prefix branched with another residual', async () => {
    const s0 = await engine.begin(ids);
    let s = s0;
    for (const [i, layer] of [0, 1].entries()) s = (await engine.runSlot(s, { layer }, i)).state;
    const exit = (await engine.forward(ids, { plan: plan([0, 1, 2, 3], { exitAfter: 1 }) })).logits!;
    assert.ok(maxAbsDiff(await engine.head(s.residual), exit) <= 1e-5);
    const branched = s.withResidual(s0.residual);
    const out = await engine.runSlot(branched, { layer: 2, mlp: false }, 2);
    assert.ok(out.attnOut && !out.mlpOut);
  });

  test('head weights reproduce the head stage; MLP output weights are [intermediate, d]', async () => {
    const hw = engine.headWeights();
    const res = await engine.forward(ids, { taps: ['blocks.3.resid_post'], logits: 'last' });
    const r = row(res.taps.get('blocks.3.resid_post')!, ids.length - 1);
    const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
    const x = r.map((v, i) => (v / Math.sqrt(ms + hw.norm.eps)) * hw.norm.weight[i]);
    const { rows: V, cols: d } = hw.unembed;
    const lg = new Float32Array(V).map((_, v) => x.reduce((a, xi, i) => a + xi * hw.unembed.data[v * d + i], 0));
    assert.equal(hw.norm.kind, 'rms');
    assert.ok(maxAbsDiff({ data: lg, rows: 1, cols: V }, res.logits!) <= 1e-4);
    const w = engine.mlpOutputWeights(1)!;
    assert.deepEqual([w.rows, w.cols], [64, 32]);
  });

  test('bad requests get BAD_REQUEST; an aborted signal gets CANCELLED', async () => {
    assert.equal(await codeOf(engine.forward([1, 1000])), 'BAD_REQUEST');
    assert.equal(await codeOf(engine.forward([])), 'BAD_REQUEST');
    assert.equal(await codeOf(engine.forward(ids, { plan: plan([0, 7]) })), 'BAD_REQUEST');
    assert.equal(await codeOf(engine.forward(ids, { plan: plan([0], { patches: [{ tap: 'embed', position: 0, vector: [1, 2] }] }) })), 'BAD_REQUEST');
    assert.equal(await codeOf(engine.forward(ids, { plan: plan([0], { patches: [{ tap: 'embed', position: 9, vector: new Array(32).fill(0) }] }) })), 'BAD_REQUEST');
    const ac = new AbortController();
    ac.abort();
    assert.equal(await codeOf(engine.forward(ids, { signal: ac.signal })), 'CANCELLED');
  });
});

describe('plans on parallel (non-separable) blocks', () => {
  const par: FixtureOptions = { ...base, parallel: true, layers: 3 };
  let engine: LayeredEngine;
  before(async () => {
    engine = await createEngine({ model: buildFixture(par), baseDir: '.' });
  });
  after(() => engine.dispose());

  test('one stage per block; skipping a block equals the model without it; sublayer taps and skips are refused', async () => {
    assert.ok(engine.layerMap.blocks.every((b) => !b.sublayersSeparable));
    assert.equal(engine.layerMap.taps.find((t) => t.name === 'blocks.1.resid_mid')?.available, false);
    const got = (await engine.forward(ids, { plan: plan([0, 2]) })).logits!;
    assert.ok(maxAbsDiff(got, await ortLogits(buildFixture({ ...par, keepLayers: [0, 2] }), ids)) <= 1e-4);
    const attnOff = plan([0, 1, 2]);
    attnOff.slots[1].attn = false;
    assert.equal(await codeOf(engine.forward(ids, { plan: attnOff })), 'BAD_REQUEST');
    assert.equal(await codeOf(engine.forward(ids, { taps: ['blocks.1.resid_mid'] })), 'BAD_REQUEST');
    const cache = engine.newCache();
    const parts = [(await engine.forward(ids.slice(0, 4), { cache })).logits!];
    for (let i = 4; i < ids.length; i++) parts.push((await engine.forward([ids[i]], { cache })).logits!);
    assert.ok(maxAbsDiff(concatRows(parts), await engine.forwardMonolithic(ids)) <= 1e-4);
  });
});
