// Tuned-lens translator training: loss against the JS reference, gradients against finite differences,
// and Adam lowering held-out KL on a synthetic problem with a planted distortion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeadWeights } from '../../../native/engine/api';
import { TranslatorTrainer } from '../../../native/analyses/decode/tunedLens';
import { randn, refKl, refLogProbs, rng } from './reference';

function head(kind: 'rms' | 'layer', d: number, V: number, seed: number): HeadWeights {
  const r = rng(seed);
  return {
    norm: { kind, weight: Float32Array.from({ length: d }, () => 1 + 0.2 * r.normal()), bias: kind === 'layer' ? randn(d, r, 0.1) : undefined, eps: 1e-5 },
    unembed: { data: randn(V * d, r), rows: V, cols: d },
    unembedBias: kind === 'layer' ? randn(V, r, 0.1) : undefined,
  };
}

/** Mean KL(final ‖ lens(h·m + b)) over tokens for one group, by the JS reference. */
function refLoss(w: HeadWeights, h: Float32Array, final: Float32Array, N: number, m: Float32Array, b: Float32Array): number {
  const d = w.unembed.cols;
  let total = 0;
  for (let n = 0; n < N; n++) {
    const x = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let s = b[j];
      for (let i = 0; i < d; i++) s += h[n * d + i] * m[i * d + j];
      x[j] = s;
    }
    total += refKl(refLogProbs(w, final.subarray(n * d, (n + 1) * d)), refLogProbs(w, x));
  }
  return total / N;
}

for (const kind of ['rms', 'layer'] as const) {
  test(`translator loss matches the reference and gradients match finite differences (${kind} norm)`, async () => {
    const d = 5, V = 12, N = 6, G = 2;
    const w = head(kind, d, V, 1);
    const r = rng(2);
    const h = randn(G * N * d, r);
    const final = randn(N * d, r);
    const m = randn(G * d * d, r, 0.5);
    const b = randn(G * d, r, 0.2);
    const trainer = await TranslatorTrainer.create(w);
    const { loss, gm, gb } = await trainer.grad(h, final, G, N, m, b);
    for (let g = 0; g < G; g++) {
      const ref = refLoss(w, h.subarray(g * N * d, (g + 1) * N * d), final, N, m.subarray(g * d * d, (g + 1) * d * d), b.subarray(g * d, (g + 1) * d));
      assert.ok(Math.abs(loss[g] - ref) < 1e-4, `loss ${loss[g]} vs ${ref}`);
    }
    // Central differences in float64 via the reference, on a few coordinates of group 1.
    const g = 1;
    const hg = h.subarray(g * N * d, (g + 1) * N * d);
    const probe = (i: number, eps: number, which: 'm' | 'b'): number => {
      const mm = Float32Array.from(m.subarray(g * d * d, (g + 1) * d * d));
      const bb = Float32Array.from(b.subarray(g * d, (g + 1) * d));
      (which === 'm' ? mm : bb)[i] += eps;
      return refLoss(w, hg, final, N, mm, bb);
    };
    const eps = 1e-3;
    for (const i of [0, 7, 24]) {
      const num = (probe(i, eps, 'm') - probe(i, -eps, 'm')) / (2 * eps);
      assert.ok(Math.abs(gm[g * d * d + i] - num) < 2e-3 * Math.max(1, Math.abs(num)), `gm[${i}] ${gm[g * d * d + i]} vs ${num}`);
    }
    for (const i of [0, 3]) {
      const num = (probe(i, eps, 'b') - probe(i, -eps, 'b')) / (2 * eps);
      assert.ok(Math.abs(gb[g * d + i] - num) < 2e-3 * Math.max(1, Math.abs(num)), `gb[${i}] ${gb[g * d + i]} vs ${num}`);
    }
    await trainer.dispose();
  });
}

test('Adam training from the identity lowers held-out KL on a planted distortion', async () => {
  const d = 8, V = 40, N = 300, G = 1;
  const w = head('rms', d, V, 3);
  const r = rng(4);
  // final = h·D + c for a fixed distortion D: the best translator undoes the mismatch.
  const D = randn(d * d, r, 0.6);
  const c = randn(d, r, 0.5);
  const make = (n: number): { h: Float32Array; f: Float32Array } => {
    const h = randn(n * d, r, 2);
    const f = new Float32Array(n * d);
    for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) {
      let s = c[j];
      for (let i = 0; i < d; i++) s += h[t * d + i] * D[i * d + j];
      f[t * d + j] = s;
    }
    return { h, f };
  };
  const train = make(N);
  const held = make(100);
  const trainer = await TranslatorTrainer.create(w);
  const identity = new Float32Array(d * d);
  for (let i = 0; i < d; i++) identity[i * d + i] = 1;
  const before = (await trainer.grad(held.h, held.f, G, 100, identity, new Float32Array(d))).loss[0];
  const { m, b } = await trainer.train(train.h, train.f, G, N, { steps: 300, learningRate: 0.05, batch: 64, seed: 1 });
  const after = (await trainer.grad(held.h, held.f, G, 100, m, b)).loss[0];
  assert.ok(after < 0.2 * before, `held-out KL ${before} → ${after}`);
  await trainer.dispose();
});
