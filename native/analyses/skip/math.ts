// Small numeric helpers for the skip analyses: row-wise (log-)softmax, divergences, argmax, norms.
// Everything accumulates in float64; inputs are the engine's float32 matrices.
import type { Mat } from '../../engine/api';

/** Row r of a matrix as a view (no copy). */
export function row(m: Mat, r: number): Float32Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** log-softmax of one row, in float64. */
export function logSoftmax(x: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
  return out;
}

/** softmax of one row with a temperature (> 0), in float64. */
export function softmax(x: ArrayLike<number>, temperature = 1): Float64Array {
  const scaled = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) scaled[i] = x[i] / temperature;
  const lp = logSoftmax(scaled);
  for (let i = 0; i < lp.length; i++) lp[i] = Math.exp(lp[i]);
  return lp;
}

/** KL(p || q) from two log-probability rows. */
export function klLog(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) kl += p * (logP[i] - logQ[i]);
  }
  return Math.max(0, kl);
}

/** Entropy (nats) of a log-probability row. */
export function entropyLog(logP: Float64Array): number {
  let h = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) h -= p * logP[i];
  }
  return h;
}

/** Index of the largest value (first on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Element-wise a - b as a new matrix (shapes must match). */
export function subtract(a: Mat, b: Mat): Mat {
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] - b.data[i];
  return { data, rows: a.rows, cols: a.cols };
}
