// The shortcut lens' least squares recovers a planted affine map; R² from grams matches a direct computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GramAccumulator, choleskySolve, r2, solveAffine } from '../../../native/analyses/decode/leastSquares';
import { randn, rng } from './reference';

test('Cholesky solve matches a hand-checkable system', () => {
  // A = [[4, 2], [2, 3]], B = [[2], [1]] → X = [[0.5], [0]].
  const x = choleskySolve(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]), 2, 1);
  assert.ok(Math.abs(x[0] - 0.5) < 1e-12 && Math.abs(x[1]) < 1e-12);
  assert.throws(() => choleskySolve(new Float64Array([1, 2, 2, 1]), new Float64Array([1, 1]), 2, 1), /positive definite/);
});

test('ridge least squares recovers a planted affine map, accumulated over chunks', async () => {
  const d = 6, N = 400;
  const r = rng(42);
  const mTrue = randn(d * d, r);
  const bTrue = randn(d, r, 3);
  const x0 = randn(N * d, r);
  for (let i = 0; i < N * d; i++) x0[i] += 5; // a large mean: centring must handle it
  const noise = randn(N * d, r, 1e-3);
  const y = new Float32Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < d; j++) {
      let s = bTrue[j] + noise[n * d + j];
      for (let i = 0; i < d; i++) s += x0[n * d + i] * mTrue[i * d + j];
      y[n * d + j] = s;
    }
  }
  const unrelated = randn(N * d, r);
  const acc = await GramAccumulator.create(d, 2);
  const chunk = 100;
  for (let s = 0; s < N; s += chunk) {
    const sl = (a: Float32Array): Float32Array => a.subarray(s * d, (s + chunk) * d);
    await acc.add([sl(x0), sl(unrelated)], sl(y), chunk);
  }
  const fit = solveAffine(acc.grams, 0, 1e-9);
  for (let i = 0; i < d * d; i++) assert.ok(Math.abs(fit.m[i] - mTrue[i]) < 5e-3, `m[${i}] ${fit.m[i]} vs ${mTrue[i]}`);
  for (let j = 0; j < d; j++) assert.ok(Math.abs(fit.b[j] - bTrue[j]) < 5e-2, `b[${j}] ${fit.b[j]} vs ${bTrue[j]}`);

  // R² from grams equals R² computed directly from the rows.
  const direct = (f: { m: Float32Array; b: Float32Array }, x: Float32Array): number => {
    const mean = new Float64Array(d);
    for (let n = 0; n < N; n++) for (let j = 0; j < d; j++) mean[j] += y[n * d + j] / N;
    let sse = 0, sst = 0;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < d; j++) {
        let p = f.b[j];
        for (let i = 0; i < d; i++) p += x[n * d + i] * f.m[i * d + j];
        sse += (y[n * d + j] - p) ** 2;
        sst += (y[n * d + j] - mean[j]) ** 2;
      }
    }
    return 1 - sse / sst;
  };
  assert.ok(Math.abs(r2(acc.grams, 0, fit) - direct(fit, x0)) < 1e-4);
  assert.ok(r2(acc.grams, 0, fit) > 0.999);
  const fit1 = solveAffine(acc.grams, 1, 1e-6);
  assert.ok(Math.abs(r2(acc.grams, 1, fit1) - direct(fit1, unrelated)) < 1e-3);
  assert.ok(r2(acc.grams, 1, fit1) < 0.1, 'an unrelated input explains little');
  await acc.dispose();
});
