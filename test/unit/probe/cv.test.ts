import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlLabels } from '../../../native/analyses/probe/control';
import { evaluateLayer, makeFolds, majorityBaseline } from '../../../native/analyses/probe/cv';
import { fitSoftmax, predictProba } from '../../../native/analyses/probe/logistic';
import { foldInterval, gaussian, macroF1, rng } from '../../../native/analyses/probe/stats';

/** n examples x d features of N(0,1) noise, plus `strength` x (label-dependent mean) along one random direction. */
function planted(y: Int32Array, d: number, strength: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  const dir = Float64Array.from({ length: d }, g);
  const norm = Math.hypot(...dir);
  const X = new Float32Array(y.length * d);
  for (let i = 0; i < y.length; i++) for (let j = 0; j < d; j++) X[i * d + j] = g() + strength * (y[i] === 1 ? 1 : -1) * (dir[j] / norm);
  return X;
}

function labels(n: number, pOne: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => (r() < pOne ? 1 : 0));
}

const opts = { folds: 5, seed: 1, lambdas: [1, 1e-2], innerFolds: 2, maxIterations: 60 };

for (const C of [2, 3]) {
  test(`softmax fit reaches the optimum with ${C} classes: gradient of the penalised loss ~ 0 (independent formula)`, () => {
    const n = 120;
    const d = 5;
    const y = Int32Array.from(labels(n, 0.5, 3), (v, i) => (C === 2 ? v : i % 3));
    const X = planted(Int32Array.from(y, (v) => (v === 1 ? 1 : 0)), d, 1.5, 4);
    const Z = Float64Array.from(X);
    const lambda = 0.05;
    const m = fitSoftmax(Z, d, y, C, lambda, { maxIterations: 500 });
    const P = predictProba(m, Z, n);
    for (let c = 0; c < C; c++) {
      for (let j = 0; j <= d; j++) {
        let g = 0;
        for (let i = 0; i < n; i++) g += (P[i * C + c] - (y[i] === c ? 1 : 0)) * (j < d ? Z[i * d + j] : 1);
        g = g / n + (j < d ? lambda * m.params[c * d + j] : 0);
        assert.ok(Math.abs(g) < 1e-3, `gradient ${c},${j} = ${g}`);
      }
    }
  });
}

test('planted linear signal at layer 3 of 6: the probe finds layer 3, other layers stay near chance', () => {
  const n = 160;
  const d = 12;
  const y = labels(n, 0.5, 11);
  const fold = makeFolds(Int32Array.from({ length: n }, (_, i) => i), y, 5, 1);
  const types = Array.from({ length: n }, (_, i) => `w${i % 40}`);
  const yc = controlLabels(types, y, 2, 5);
  const acc = [0, 1, 2, 3, 4, 5].map((layer) => {
    const X = planted(y, d, layer === 3 ? 4 : 0, 100 + layer);
    return foldInterval(evaluateLayer(X, d, y, yc, 2, fold, opts).accuracy).mean;
  });
  const best = acc.indexOf(Math.max(...acc));
  assert.equal(best, 3, `accuracies ${acc.map((a) => a.toFixed(2))}`);
  assert.ok(acc[3] > 0.9);
  for (const [l, a] of acc.entries()) if (l !== 3) assert.ok(a < 0.68, `layer ${l}: ${a}`);
});

test('shuffled labels: accuracy ~ majority baseline', () => {
  const n = 200;
  const d = 10;
  const y = labels(n, 0.3, 21);
  const X = planted(y, d, 0, 22); // no signal at all
  const fold = makeFolds(Int32Array.from({ length: n }, (_, i) => i), y, 5, 2);
  const ev = evaluateLayer(X, d, y, y, 2, fold, { ...opts, lambdas: [1, 1e-1, 1e-2] });
  const majority = foldInterval(majorityBaseline(y, 2, fold, 5)).mean;
  const acc = foldInterval(ev.accuracy).mean;
  assert.ok(Math.abs(acc - majority) < 0.08, `acc ${acc} vs majority ${majority}`);
});

test('control task on random labels: selectivity ~ 0', () => {
  const n = 300;
  const d = 10;
  const y = labels(n, 0.5, 31);
  const X = planted(y, d, 0, 32);
  const types = Array.from({ length: n }, (_, i) => `w${i % 50}`);
  const yc = controlLabels(types, y, 2, 9);
  const fold = makeFolds(Int32Array.from({ length: n }, (_, i) => i), y, 5, 3);
  const ev = evaluateLayer(X, d, y, yc, 2, fold, opts);
  const sel = foldInterval(ev.accuracy).mean - foldInterval(ev.controlAccuracy).mean;
  assert.ok(Math.abs(sel) < 0.1, `selectivity ${sel}`);
});

test('control labels: one label per word type, label distribution kept', () => {
  const y = labels(2000, 0.25, 41);
  const types = Array.from({ length: 2000 }, (_, i) => `t${i % 400}`);
  const yc = controlLabels(types, y, 2, 1);
  for (let i = 400; i < 2000; i++) assert.equal(yc[i], yc[i % 400]);
  const share = yc.reduce((a, b) => a + b, 0) / yc.length;
  assert.ok(Math.abs(share - 0.25) < 0.07, `share ${share}`);
});

test('no leak: each fold standardiser is fit on its training rows only, test rows never in train', () => {
  const n = 100;
  const d = 4;
  const y = labels(n, 0.5, 51);
  const X = planted(y, d, 1, 52);
  for (let i = 0; i < n; i++) X[i * d] += i; // a feature whose mean differs a lot between folds
  const fold = makeFolds(Int32Array.from({ length: n }, (_, i) => i), y, 5, 4);
  let folds = 0;
  evaluateLayer(X, d, y, y, 2, fold, {
    ...opts,
    onFold: (f, train, test, probe) => {
      folds++;
      const inTest = new Set(test);
      assert.ok(![...train].some((r) => inTest.has(r)));
      assert.equal(train.length + test.length, n);
      assert.ok([...test].every((r) => fold[r] === f));
      const mean0 = [...train].reduce((a, r) => a + X[r * d], 0) / train.length;
      const allMean0 = Array.from({ length: n }, (_, r) => X[r * d]).reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.abs(probe.standardizer.mean[0] - mean0) < 1e-6);
      assert.ok(Math.abs(probe.standardizer.mean[0] - allMean0) > 1e-3);
    },
  });
  assert.equal(folds, 5);
});

test('grouped folds stop group memorisation: per-group features + per-group random labels', () => {
  const groupsN = 40;
  const per = 5;
  const d = 60;
  const n = groupsN * per;
  const r = rng(61);
  const g = gaussian(r);
  const groupLabel = Array.from({ length: groupsN }, () => (r() < 0.5 ? 1 : 0));
  const centers = Array.from({ length: groupsN }, () => Array.from({ length: d }, () => 3 * g()));
  const groups = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  const y = Int32Array.from(groups, (q) => groupLabel[q]);
  const X = Float32Array.from({ length: n * d }, (_, k) => centers[groups[Math.floor(k / d)]][k % d] + 0.3 * g());
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const plainFold = makeFolds(all, y, 5, 5);
  const groupFold = makeFolds(all, y, 5, 5, groups);
  for (let q = 0; q < groupsN; q++) assert.equal(new Set([...all].filter((i) => groups[i] === q).map((i) => groupFold[i])).size, 1);
  const plain = foldInterval(evaluateLayer(X, d, y, y, 2, plainFold, opts).accuracy).mean;
  const grouped = foldInterval(evaluateLayer(X, d, y, y, 2, groupFold, opts, groups).accuracy).mean;
  assert.ok(plain > 0.8, `ungrouped accuracy ${plain} (memorised groups)`);
  assert.ok(grouped < 0.7, `grouped accuracy ${grouped}`);
});

test('metrics: macro-F1 and t-interval against hand-computed values', () => {
  // y = [0,0,1,1], pred = [0,1,1,1]: F1(0) = 2/3, F1(1) = 0.8 -> mean 0.7333
  assert.ok(Math.abs(macroF1([0, 0, 1, 1], [0, 1, 1, 1], 2) - (2 / 3 + 0.8) / 2) < 1e-12);
  const iv = foldInterval([0.8, 0.9, 1.0]);
  // sd = 0.1, t(2) = 4.303: half-width 0.1 * 4.303 / sqrt(3); the upper end is clipped to 1.
  assert.ok(Math.abs(0.9 - iv.lo - (0.1 * 4.303) / Math.sqrt(3)) < 1e-9);
  assert.equal(iv.hi, 1);
});
