// The ORT lens head against an independent float64 JS reference on synthetic head weights.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeadWeights } from '../../../native/engine/api';
import { LensHead } from '../../../native/analyses/decode/lensHead';
import { randn, refEntropy, refKl, refLogProbs, refTopK, rng } from './reference';

function syntheticHead(kind: 'rms' | 'layer', withBias: boolean, d: number, V: number, seed: number): HeadWeights {
  const r = rng(seed);
  return {
    norm: {
      kind,
      weight: Float32Array.from({ length: d }, () => 1 + 0.3 * r.normal()),
      bias: kind === 'layer' ? randn(d, r, 0.1) : undefined,
      eps: 1e-5,
    },
    unembed: { data: randn(V * d, r, 0.5), rows: V, cols: d },
    unembedBias: withBias ? randn(V, r, 0.2) : undefined,
  };
}

for (const [kind, withBias] of [['rms', false], ['layer', true]] as const) {
  test(`lens head (${kind} norm${withBias ? ', head bias' : ''}) matches the JS reference`, async () => {
    const d = 16, V = 50, G = 3, T = 4, k = 5;
    const w = syntheticHead(kind, withBias, d, V, 7);
    const r = rng(11);
    const states = randn(G * T * d, r, 2);
    const final = states.subarray((G - 1) * T * d); // the last group is the model's output
    const targets = [3, 17, 0, -1];
    const head = await LensHead.create(w, false);
    const out = await head.run({ states, groups: G, tokens: T, targets, k });
    for (let g = 0; g < G; g++) {
      for (let t = 0; t < T; t++) {
        const i = g * T + t;
        const lp = refLogProbs(w, states.subarray(i * d, (i + 1) * d));
        const lpF = refLogProbs(w, final.subarray(t * d, (t + 1) * d));
        assert.deepEqual(Array.from(out.topIds.subarray(i * k, (i + 1) * k)), refTopK(lp, k));
        for (let j = 0; j < k; j++) assert.ok(Math.abs(out.topLogp[i * k + j] - lp[out.topIds[i * k + j]]) < 1e-4);
        assert.ok(Math.abs(out.entropy[i] - refEntropy(lp)) < 1e-4, `entropy ${out.entropy[i]} vs ${refEntropy(lp)}`);
        assert.ok(Math.abs(out.kl[i] - refKl(lpF, lp)) < 1e-4, `kl ${out.kl[i]} vs ${refKl(lpF, lp)}`);
        const tgt = targets[t] >= 0 ? targets[t] : refTopK(lpF, 1)[0];
        assert.equal(out.finalTop1[t], refTopK(lpF, 1)[0]);
        assert.ok(Math.abs(out.targetLogp[i] - lp[tgt]) < 1e-4);
        const rank = lp.filter((x) => x > lp[tgt]).length;
        assert.equal(out.targetRank[i], rank);
      }
    }
    // The final group decodes the final states themselves: KL to final is zero.
    for (let t = 0; t < T; t++) assert.ok(out.kl[(G - 1) * T + t] < 1e-5);
    await head.dispose();
  });
}

test('lens head applies a per-layer affine map before decoding', async () => {
  const d = 8, V = 30, G = 2, T = 3, k = 3;
  const w = syntheticHead('rms', false, d, V, 3);
  const r = rng(5);
  const states = randn(G * T * d, r);
  const final = states.subarray((G - 1) * T * d);
  const m = randn(G * d * d, r, 0.4);
  const b = randn(G * d, r, 0.3);
  // The last group is the model's output: its map is the identity.
  m.fill(0, (G - 1) * d * d);
  for (let i = 0; i < d; i++) m[(G - 1) * d * d + i * d + i] = 1;
  b.fill(0, (G - 1) * d);
  const head = await LensHead.create(w, true);
  const out = await head.run({ states, groups: G, tokens: T, targets: [1, 2, 3], k, affine: { m, b } });
  for (let g = 0; g < G; g++) {
    for (let t = 0; t < T; t++) {
      const h = states.subarray((g * T + t) * d, (g * T + t + 1) * d);
      const x = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        let s = b[g * d + j];
        for (let i = 0; i < d; i++) s += h[i] * m[g * d * d + i * d + j];
        x[j] = s;
      }
      const lp = refLogProbs(w, x);
      const lpF = refLogProbs(w, final.subarray(t * d, (t + 1) * d));
      assert.ok(Math.abs(out.kl[g * T + t] - refKl(lpF, lp)) < 1e-4);
      assert.equal(out.topIds[(g * T + t) * k], refTopK(lp, 1)[0]);
    }
  }
  await assert.rejects(head.run({ states, groups: G, tokens: T, targets: [1, 2, 3], k }), /affine/);
  await assert.rejects(head.run({ states, groups: G, tokens: T, targets: [1, 2, 99], k, affine: { m, b } }), /outside the vocabulary/);
  await head.dispose();
});
