// Independent plain-JS (float64) reference of "final norm + unembedding + softmax" for the decode tests.
import type { HeadWeights } from '../../../native/engine/api';

/** Deterministic PRNG (mulberry32) and a Gaussian from it. */
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

export function randn(n: number, r: { normal: () => number }, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

/** log-softmax of norm(h)·Wᵀ + c for one state h, float64. */
export function refLogProbs(w: HeadWeights, h: ArrayLike<number>): Float64Array {
  const d = w.unembed.cols;
  const V = w.unembed.rows;
  const y = new Float64Array(d);
  if (w.norm.kind === 'rms') {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += h[i] * h[i];
    const r = Math.sqrt(ms / d + w.norm.eps);
    for (let i = 0; i < d; i++) y[i] = (h[i] / r) * w.norm.weight[i];
  } else {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += h[i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (h[i] - mean) ** 2;
    const r = Math.sqrt(v / d + w.norm.eps);
    for (let i = 0; i < d; i++) y[i] = ((h[i] - mean) / r) * w.norm.weight[i] + (w.norm.bias?.[i] ?? 0);
  }
  const z = new Float64Array(V);
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    let s = w.unembedBias?.[v] ?? 0;
    for (let i = 0; i < d; i++) s += y[i] * w.unembed.data[v * d + i];
    z[v] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(z[v] - max);
  const lse = max + Math.log(sum);
  for (let v = 0; v < V; v++) z[v] -= lse;
  return z;
}

export function refEntropy(lp: Float64Array): number {
  let h = 0;
  for (const x of lp) h -= Math.exp(x) * x;
  return h;
}

export function refKl(lpP: Float64Array, lpQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < lpP.length; i++) kl += Math.exp(lpP[i]) * (lpP[i] - lpQ[i]);
  return kl;
}

/** Indices of the k largest entries, descending. */
export function refTopK(x: Float64Array, k: number): number[] {
  return Array.from(x.keys()).sort((a, b) => x[b] - x[a]).slice(0, k);
}
