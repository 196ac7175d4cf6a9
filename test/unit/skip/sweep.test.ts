import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityPlan } from '../../../protocol';
import { layerSweep, basePass } from '../../../native/analyses/skip/sweep';
import { parseCorpus, CorpusError } from '../../../native/analyses/skip/corpus';
import { planProblem, sharedPrefix, skipPlan, sweepPlans } from '../../../native/analyses/skip/plans';
import { ToyEngine } from './toyEngine';
import { logProbs, reference, top } from './reference';

const ids = [3, 7, 1, 12, 5, 9, 2, 30, 8];

test('the unmodified stage-by-stage pass equals the engine forward (identity plan)', async () => {
  const engine = new ToyEngine({ layers: 4 });
  const base = await basePass(engine, ids);
  const logits = await engine.head(base.states[4].residual);
  const ref = (await engine.forward(ids, { plan: identityPlan(4) })).logits!;
  assert.equal(logits.data.length, ref.data.length);
  logits.data.forEach((v, i) => assert.ok(Math.abs(v - ref.data[i]) < 1e-5));
});

test('sweep with prefix reuse gives the numbers of full recomputation, for every plan kind', async () => {
  const engine = new ToyEngine({ layers: 5, seed: 7 });
  const res = await layerSweep(engine, { texts: [ids], options: { repeats: true, spans: [2, 3] }, answerIndex: 4 });
  const kinds = new Set(res.entries.map((e) => e.kind));
  assert.deepEqual([...kinds].sort(), ['repeat', 'skip', 'skipAttn', 'skipMlp', 'span', 'swap']);
  assert.equal(res.entries.length, 5 + 10 + 4 + 5 + 4 + 3);
  for (const e of res.entries) {
    const ref = await reference(engine, ids, { plan: e.plan });
    assert.ok(Math.abs(e.ce - ref.ce) < 1e-4, `${e.label} ce ${e.ce} vs ${ref.ce}`);
    assert.ok(Math.abs(e.kl - ref.kl) < 1e-4, `${e.label} kl ${e.kl} vs ${ref.kl}`);
    assert.equal(e.top1, ref.top1, e.label);
    assert.equal(e.klPerToken.length, ids.length);
    const mod = (await engine.forward(ids, { plan: e.plan })).logits!;
    const q = logProbs(mod, 3);
    assert.ok(Math.abs(e.answer!.logprob - q[ids[4]]) < 1e-4);
    assert.equal(e.answer!.top1Id, top(q));
  }
  const baseRef = await reference(engine, ids, {});
  assert.ok(Math.abs(res.baseCe - baseRef.ce) < 1e-4);
  // Skipping anything changes the output of this random model; the base has KL 0 to itself.
  assert.ok(res.entries.every((e) => e.kl > 0));
});

test('a single-block skip sweep costs under 0.6 L full forwards', async () => {
  const engine = new ToyEngine({ layers: 8, seed: 3 });
  const res = await layerSweep(engine, { texts: [ids.slice(0, 4)], options: { sublayers: false, swaps: false } });
  assert.equal(res.entries.length, 8);
  // L (unmodified pass) + sum_i (L-1-i) blocks = 8 + 28 = 36 blocks = 4.5 forwards <= 0.6 * 8.
  assert.equal(res.forwardEquivalents, 4.5);
  assert.ok(res.forwardEquivalents <= 0.6 * 8);
});

test('corpus sweep averages over texts and reports progress with partial entries', async () => {
  const engine = new ToyEngine({ layers: 3, seed: 5 });
  const texts = [ids, [4, 4, 6, 1], [9, 8]];
  const partials: number[] = [];
  const res = await layerSweep(engine, { texts, options: { sublayers: false }, onProgress: (f, entries) => partials.push(entries.length + f) });
  assert.equal(res.texts, 3);
  assert.equal(res.positions, 8 + 3 + 1);
  const e = res.entries[1];
  let ce = 0;
  for (const t of texts) ce += (await reference(engine, t, { plan: e.plan })).ce * (t.length - 1);
  assert.ok(Math.abs(e.ce - ce / 12) < 1e-4);
  assert.equal(partials.length, 3 * Math.ceil(res.entries.length / 8));
  assert.equal(partials.at(-1), res.entries.length + 1);
});

test('sublayer statistics match the residual taps of a plain forward', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 11 });
  const res = await layerSweep(engine, { texts: [ids], options: { skips: false, swaps: false, sublayers: false } });
  const taps = (await engine.forward(ids, { taps: [0, 1, 2, 3].map((l) => `blocks.${l}.resid_post` as const) })).taps;
  const s = res.sublayer;
  assert.deepEqual(s.separable, [true, true, true, true]);
  for (let l = 1; l < 4; l++) {
    const pre = taps.get(`blocks.${l - 1}.resid_post`)!;
    const post = taps.get(`blocks.${l}.resid_post`)!;
    for (let t = 0; t < ids.length; t++) {
      const a = pre.data.subarray(t * pre.cols, (t + 1) * pre.cols);
      const b = post.data.subarray(t * post.cols, (t + 1) * post.cols);
      let dot = 0, na = 0, nb = 0, d2 = 0;
      for (let i = 0; i < a.length; i++) {
        dot += a[i] * b[i]; na += a[i] ** 2; nb += b[i] ** 2; d2 += (a[i] - b[i]) ** 2;
      }
      assert.ok(Math.abs(s.ioCos[l][t]! - dot / Math.sqrt(na * nb)) < 1e-5);
      assert.ok(Math.abs(s.deltaL2[l][t]! - Math.sqrt(d2)) < 1e-4);
    }
  }
  for (let l = 0; l < 4; l++) {
    assert.ok(Math.abs(s.similarity[l][l] - 1) < 1e-6);
    assert.ok(s.attnRelNorm[l].every((v) => v !== null && v > 0));
    assert.ok(Math.abs((s.means.ioCos[l] ?? NaN) - s.ioCos[l].reduce((x: number, y) => x + (y ?? NaN), 0) / ids.length) < 1e-9);
  }
});

test('sweep stops when cancelled', async () => {
  const engine = new ToyEngine({ layers: 3 });
  const ac = new AbortController();
  await assert.rejects(layerSweep(engine, { texts: [ids], signal: ac.signal, onProgress: () => ac.abort(new Error('cancelled by test')) }), /cancelled by test/);
});

test('plans: shared prefix, validation, sweep plan lists', () => {
  assert.equal(sharedPrefix(identityPlan(4)), 4);
  assert.equal(sharedPrefix(skipPlan(4, [2])), 2);
  assert.equal(sharedPrefix({ slots: [{ layer: 0 }, { layer: 1, mlp: false }] }), 1);
  assert.equal(sharedPrefix({ slots: identityPlan(4).slots, patches: [{ tap: 'embed', position: 0, vector: [] }] }), 0);
  assert.match(planProblem({ slots: [{ layer: 9 }] }, 4)!, /block 9/);
  assert.match(planProblem({ slots: [] }, 4)!, /at least one/);
  assert.match(planProblem({ slots: [{ layer: 0 }], exitAfter: 3 }, 4)!, /exitAfter/);
  assert.equal(planProblem(skipPlan(4, [1]), 4), undefined);
  assert.equal(sweepPlans(4, { spans: [1, 2, 9] }, () => false).filter((p) => p.kind === 'span').length, 3);
  const swaps = sweepPlans(4, { skips: false, allSwaps: true }, () => false);
  assert.deepEqual(swaps.map((p) => p.layers.join('')), ['01', '02', '03', '12', '13', '23']);
  assert.deepEqual(swaps[1].plan.slots.map((s) => s.layer), [2, 1, 0, 3]);
});

test('corpus parsing: JSONL objects and strings, paragraphs, clear errors', () => {
  assert.deepEqual(parseCorpus('{"text":"a b"}\n\n"c"\n', 'jsonl'), ['a b', 'c']);
  assert.deepEqual(parseCorpus('one\ntwo\n\n\nthree', 'text'), ['one\ntwo', 'three']);
  assert.throws(() => parseCorpus('{"text":1}', 'jsonl'), (e) => e instanceof CorpusError && /line 1/.test(e.message));
  assert.throws(() => parseCorpus('"ok"\n{bad', 'jsonl'), /line 2: not valid JSON/);
  assert.throws(() => parseCorpus('  \n', 'text'), /no texts/);
});
