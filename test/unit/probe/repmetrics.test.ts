import assert from 'node:assert/strict';
import { test } from 'node:test';
import { centredGram, curvature, linearCka, promptEntropy, symmetricEigenvalues } from '../../../native/analyses/probe/repmetrics';
import { gaussian, rng } from '../../../native/analyses/probe/stats';

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('prompt entropy: 0 for collinear tokens, 1 for orthogonal equal-norm tokens, in between otherwise', () => {
  const d = 6;
  const collinear = Float32Array.from({ length: 4 * d }, (_, k) => (k % d === 2 ? 1 + Math.floor(k / d) : 0));
  near(promptEntropy(collinear, 4, d), 0, 1e-6);
  const ortho = new Float32Array(4 * d);
  for (let t = 0; t < 4; t++) ortho[t * d + t] = 3;
  near(promptEntropy(ortho, 4, d), 1, 1e-6);
  // Two orthogonal directions with weights 1 and 3 over 3 tokens (T > d branch checked with d = 2).
  const H = Float32Array.from([1, 0, 0, Math.sqrt(3), 0, 0]);
  const p = [1 / 4, 3 / 4];
  near(promptEntropy(H, 3, 2), -(p[0] * Math.log(p[0]) + p[1] * Math.log(p[1])) / Math.log(3), 1e-6);
  assert.ok(Number.isNaN(promptEntropy(new Float32Array(d), 1, d)));
});

test('curvature: 0 on a straight trajectory, pi/2 on a right-angle staircase', () => {
  near(curvature(Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3]), 4, 2), 0, 1e-6);
  near(curvature(Float32Array.from([0, 0, 1, 0, 1, 1, 2, 1]), 4, 2), Math.PI / 2, 1e-6);
  assert.ok(Number.isNaN(curvature(new Float32Array(4), 2, 2)));
});

test('linear CKA: 1 for itself, invariant to rotation and isotropic scaling, ~0 for independent features', () => {
  const n = 200;
  const d = 3;
  const g = gaussian(rng(5));
  const X = Float32Array.from({ length: n * d }, g);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const c = Math.cos(0.7);
  const s = Math.sin(0.7);
  const Y = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const [a, b, e] = [X[i * d], X[i * d + 1], X[i * d + 2]];
    Y[i * d] = 5 * (c * a - s * b) + 2;
    Y[i * d + 1] = 5 * (s * a + c * b) - 1;
    Y[i * d + 2] = 5 * e;
  }
  const K = centredGram(X, d, rows);
  near(linearCka(K, K), 1, 1e-12);
  near(linearCka(K, centredGram(Y, d, rows)), 1, 1e-6);
  const Z = Float32Array.from({ length: n * d }, g);
  assert.ok(linearCka(K, centredGram(Z, d, rows)) < 0.1);
});

test('symmetric eigenvalues (Householder + QL) match the characteristic polynomial of known matrices', () => {
  // [[2,1],[1,2]] -> 1, 3;  [[4,1,0],[1,3,1],[0,1,2]] -> 3, 3 ± sqrt(3)
  const two = [...symmetricEigenvalues(Float64Array.from([2, 1, 1, 2]), 2)].sort((a, b) => a - b);
  near(two[0], 1, 1e-12);
  near(two[1], 3, 1e-12);
  const three = [...symmetricEigenvalues(Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]), 3)].sort((a, b) => a - b);
  [3 - Math.sqrt(3), 3, 3 + Math.sqrt(3)].forEach((v, i) => near(three[i], v, 1e-10));
  // A random Gram matrix: eigenvalues sum to the trace and their squares to the squared Frobenius norm.
  const g = gaussian(rng(9));
  const n = 20;
  const Z = Array.from({ length: n * 8 }, g);
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let j = 0; j < 8; j++) G[a * n + b] += Z[a * 8 + j] * Z[b * 8 + j];
  const trace = Array.from({ length: n }, (_, i) => G[i * n + i]).reduce((x, y) => x + y, 0);
  const fro = G.reduce((x, v) => x + v * v, 0);
  const eig = symmetricEigenvalues(Float64Array.from(G), n);
  near(eig.reduce((x, y) => x + y, 0), trace, 1e-8 * trace);
  near(eig.reduce((x, y) => x + y * y, 0), fro, 1e-8 * fro);
  assert.equal(eig.filter((v) => v > 1e-8 * trace).length, 8); // rank 8
});
