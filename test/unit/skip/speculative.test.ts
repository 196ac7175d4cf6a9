import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityPlan } from '../../../protocol';
import { decode, DynamicExitPolicy, fixedPolicy, speculativeDecode } from '../../../native/analyses/skip/speculative';
import { earlyExitPlan, skipPlan } from '../../../native/analyses/skip/plans';
import { ToyEngine } from './toyEngine';

const prompt = [3, 7, 1, 12, 5];
const maxNewTokens = 24;

test('plain decoding with the cache equals recomputing the whole sequence each step', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 2 });
  const { ids } = await decode(engine, prompt, { maxNewTokens: 8 });
  const seq = [...prompt];
  for (let i = 0; i < 8; i++) {
    const l = (await engine.forward(seq, { logits: 'last' })).logits!;
    seq.push(l.data.indexOf(Math.max(...l.data)));
  }
  assert.deepEqual(ids, seq.slice(prompt.length));
});

test('self-speculative output equals greedy for every early-exit layer and draft length, with rejections', async () => {
  const engine = new ToyEngine({ layers: 5, seed: 4 });
  const greedy = (await decode(engine, prompt, { maxNewTokens })).ids;
  let sawRejection = false;
  let sawAcceptance = false;
  for (let e = 0; e < 4; e++) {
    for (const [k, shareExitCache] of [[1, true], [3, true], [5, false], ['adaptive', true], ['adaptive', false]] as const) {
      const run = await speculativeDecode(engine, prompt, fixedPolicy(earlyExitPlan(5, e), k), { maxNewTokens, shareExitCache });
      assert.deepEqual(run.ids, greedy, `exit ${e} k ${k}`);
      assert.equal(run.sharedCache, shareExitCache);
      assert.equal(run.tokens.length, greedy.length);
      assert.equal(run.stats.accepted, run.tokens.filter((t) => t.origin === 'accepted').length);
      if (run.stats.accepted < run.stats.drafted) sawRejection = true;
      if (run.stats.accepted > 0) sawAcceptance = true;
    }
  }
  assert.ok(sawRejection && sawAcceptance);
});

test('self-speculative output equals greedy for skip-set drafts and the dynamic exit (DEL) policy', async () => {
  const engine = new ToyEngine({ layers: 6, seed: 9 });
  const greedy = (await decode(engine, prompt, { maxNewTokens })).ids;
  for (const skip of [[1], [2, 3], [1, 2, 3, 4]]) {
    const run = await speculativeDecode(engine, prompt, fixedPolicy(skipPlan(6, skip), 4), { maxNewTokens });
    assert.deepEqual(run.ids, greedy, `skip ${skip}`);
    assert.equal(run.sharedCache, false);
  }
  const policy = new DynamicExitPolicy(engine, 'adaptive');
  const run = await speculativeDecode(engine, prompt, policy, { maxNewTokens });
  assert.deepEqual(run.ids, greedy);
  assert.equal(run.exitLayers.length, run.stats.rounds);
  assert.ok(run.exitLayers.every((e) => e >= 0 && e < 5));
  assert.ok(policy.rates.every((r) => r >= 0 && r <= 1));
});

test('a draft identical to the full model is always accepted (greedy and sampled)', async () => {
  const engine = new ToyEngine({ layers: 3, seed: 6 });
  for (const temperature of [0, 0.8]) {
    const run = await speculativeDecode(engine, prompt, fixedPolicy(identityPlan(3), 3), { maxNewTokens: 13, temperature, seed: 5 });
    assert.equal(run.stats.acceptanceRate, 1, `temperature ${temperature}`);
    assert.equal(run.ids.length, 13);
  }
});

test('sampled self-speculative decoding is reproducible with a seed and stops at end-of-sequence', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 8 });
  const opts = { maxNewTokens: 16, temperature: 1, seed: 42 };
  const a = await speculativeDecode(engine, prompt, fixedPolicy(earlyExitPlan(4, 1), 3), opts);
  const b = await speculativeDecode(engine, prompt, fixedPolicy(earlyExitPlan(4, 1), 3), opts);
  assert.deepEqual(a.ids, b.ids);
  const greedy = (await decode(engine, prompt, { maxNewTokens: 16 })).ids;
  const eos = greedy[5];
  const stop = await speculativeDecode(engine, prompt, fixedPolicy(earlyExitPlan(4, 2), 4), { maxNewTokens: 16, eosTokenIds: [eos] });
  assert.deepEqual(stop.ids, greedy.slice(0, greedy.indexOf(eos) + 1));
});

test('speculative sampling keeps the full model distribution (rejection rule), though the draft differs', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 13, vocab: 12 });
  const temperature = 1;
  const runs = 1500;
  const V = 12;
  const small = [3, 7, 1, 10, 5];
  const softmaxOf = (l: Float32Array) => {
    const m = Math.max(...l);
    const e = Array.from(l, (x) => Math.exp((x - m) / temperature));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  };
  const pCache = new Map<number, { p: number[]; q: number[] }>();
  const dists = async (t1: number) => {
    if (!pCache.has(t1)) {
      const seq = [...small, t1];
      const p = softmaxOf((await engine.forward(seq, { logits: 'last' })).logits!.data);
      const q = softmaxOf((await engine.forward(seq, { plan: earlyExitPlan(4, 0), logits: 'last' })).logits!.data);
      pCache.set(t1, { p, q });
    }
    return pCache.get(t1)!;
  };
  const observed = new Array(V).fill(0);
  const expected = new Array(V).fill(0);
  const draftOnly = new Array(V).fill(0);
  for (let seed = 1; seed <= runs; seed++) {
    const run = await speculativeDecode(engine, small, fixedPolicy(earlyExitPlan(4, 0), 1), { maxNewTokens: 2, temperature, seed });
    const [t1, t2] = run.ids;
    const { p, q } = await dists(t1);
    observed[t2] += 1 / runs;
    for (let v = 0; v < V; v++) {
      expected[v] += p[v] / runs;
      draftOnly[v] += q[v] / runs;
    }
  }
  const tv = (a: number[], b: number[]) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / 2;
  assert.ok(tv(draftOnly, expected) > 0.2, `the draft distribution differs from the model's (TV ${tv(draftOnly, expected)})`);
  assert.ok(tv(observed, expected) < 0.06, `second-token distribution matches the model (TV ${tv(observed, expected)})`);
});
