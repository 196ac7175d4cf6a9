// Ridge least squares for the linear-shortcut lens: per layer, the affine map x ↦ x·M + b that best
// predicts the last block's output from layer i's state. Gram matrices of chunks are computed in
// onnxruntime (float32 per chunk), accumulated in float64 and solved by Cholesky in float64 on the
// centred normal equations.
import type * as ort from 'onnxruntime-node';
import { DType, GraphBuilder, f32, openSession } from './graph';

/** Sufficient statistics of (x̃ = [x, 1], y) pairs per group: X̃ᵀX̃ [d+1, d+1], X̃ᵀY [d+1, d], ΣyᵀY. */
export interface Grams {
  hidden: number;
  groups: number;
  /** Per group, float64 [(d+1)·(d+1)] and [(d+1)·d]. */
  xx: Float64Array[];
  xy: Float64Array[];
  yy: number;
  count: number;
}

/** Accumulates grams of G groups of states against one target state set, in ORT. */
export class GramAccumulator {
  readonly grams: Grams;
  private constructor(private readonly session: ort.InferenceSession, readonly hidden: number, readonly groups: number) {
    const e = hidden + 1;
    this.grams = {
      hidden,
      groups,
      xx: Array.from({ length: groups }, () => new Float64Array(e * e)),
      xy: Array.from({ length: groups }, () => new Float64Array(e * hidden)),
      yy: 0,
      count: 0,
    };
  }

  static async create(hidden: number, groups: number): Promise<GramAccumulator> {
    const g = new GraphBuilder();
    const x = g.input('x', DType.float, ['G', 'N', hidden + 1]);
    const y = g.input('y', DType.float, ['N', hidden]);
    const xt = g.op('Transpose', [x], { perm: [0, 2, 1] });
    g.op('MatMul', [xt, x], {}, 'xx');
    g.op('MatMul', [xt, y], {}, 'xy');
    g.output('xx', DType.float, ['G', hidden + 1, hidden + 1]);
    g.output('xy', DType.float, ['G', hidden + 1, hidden]);
    return new GramAccumulator(await openSession(g.build('grams')), hidden, groups);
  }

  /** Adds n rows: states[g] is [n, d] for each group, y is [n, d]. */
  async add(states: Float32Array[], y: Float32Array, n: number): Promise<void> {
    const d = this.hidden;
    const e = d + 1;
    if (states.length !== this.groups || y.length !== n * d || states.some((s) => s.length !== n * d)) {
      throw new Error('gram accumulator: shape mismatch');
    }
    const x = new Float32Array(this.groups * n * e);
    states.forEach((s, g) => {
      for (let r = 0; r < n; r++) {
        const o = (g * n + r) * e;
        x.set(s.subarray(r * d, (r + 1) * d), o);
        x[o + d] = 1;
      }
    });
    const out = await this.session.run({ x: f32(x, [this.groups, n, e]), y: f32(y, [n, d]) });
    const xx = out.xx.data as Float32Array;
    const xy = out.xy.data as Float32Array;
    for (let g = 0; g < this.groups; g++) {
      const a = this.grams.xx[g];
      for (let i = 0; i < a.length; i++) a[i] += xx[g * e * e + i];
      const b = this.grams.xy[g];
      for (let i = 0; i < b.length; i++) b[i] += xy[g * e * d + i];
    }
    let yy = 0;
    for (let i = 0; i < y.length; i++) yy += y[i] * y[i];
    this.grams.yy += yy;
    this.grams.count += n;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** An affine map x ↦ x·m + b: m [d, d] row-major, b [d]. */
export interface Affine {
  m: Float32Array;
  b: Float32Array;
}

/**
 * Ridge solution for group g: minimise Σ‖y − x·M − b‖² + λ‖M‖² with λ = ridge · mean diag of the
 * centred XᵀX (the bias is not penalised).
 */
export function solveAffine(grams: Grams, g: number, ridge: number): Affine {
  const d = grams.hidden;
  const e = d + 1;
  const n = grams.count;
  if (n < 2) throw new Error('Least squares needs at least two token states');
  const xx = grams.xx[g];
  const xy = grams.xy[g];
  const mx = new Float64Array(d);
  const my = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    mx[i] = xx[i * e + d] / n;
    my[i] = xy[d * d + i] / n;
  }
  // Centred normal equations: (Cxx + λI) M = Cxy.
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = xx[i * e + j] - n * mx[i] * mx[j];
  let trace = 0;
  for (let i = 0; i < d; i++) trace += a[i * d + i];
  const lambda = Math.max(ridge * (trace / d), 1e-12);
  for (let i = 0; i < d; i++) a[i * d + i] += lambda;
  const rhs = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) rhs[i * d + j] = xy[i * d + j] - n * mx[i] * my[j];
  const m = choleskySolve(a, rhs, d, d);
  const b = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let s = my[j];
    for (let i = 0; i < d; i++) s -= mx[i] * m[i * d + j];
    b[j] = s;
  }
  return { m: Float32Array.from(m), b };
}

/** R² (pooled over dimensions) of an affine prediction on the rows summarised by `grams`. */
export function r2(grams: Grams, g: number, f: Affine): number {
  const d = grams.hidden;
  const e = d + 1;
  const n = grams.count;
  const xx = grams.xx[g];
  const xy = grams.xy[g];
  // W̃ = [M; b] of shape [d+1, d]. SSE = ΣyᵀY − 2 tr(W̃ᵀX̃ᵀY) + tr(W̃ᵀX̃ᵀX̃W̃).
  const w = (i: number, j: number): number => (i < d ? f.m[i * d + j] : f.b[j]);
  let cross = 0;
  for (let i = 0; i < e; i++) for (let j = 0; j < d; j++) cross += w(i, j) * xy[i * d + j];
  let quad = 0;
  const col = new Float64Array(e);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < e; i++) col[i] = w(i, j);
    for (let i = 0; i < e; i++) {
      let s = 0;
      const rowOff = i * e;
      for (let k = 0; k < e; k++) s += xx[rowOff + k] * col[k];
      quad += col[i] * s;
    }
  }
  const sse = grams.yy - 2 * cross + quad;
  let sumSqMean = 0;
  for (let j = 0; j < d; j++) sumSqMean += (xy[d * d + j] * xy[d * d + j]) / n;
  const sst = grams.yy - sumSqMean;
  return sst > 0 ? 1 - Math.max(0, sse) / sst : 0;
}

/** Solves A X = B for symmetric positive definite A [n, n] and B [n, m] (float64, row-major). */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
    if (!(s > 0)) throw new Error('Least squares: the normal equations are not positive definite (increase the ridge)');
    const ljj = Math.sqrt(s);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / ljj;
    }
  }
  const x = Float64Array.from(b);
  // Forward: L Z = B, then back: Lᵀ X = Z, column block by column block (rows of x are contiguous).
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k];
      if (lik === 0) continue;
      for (let c = 0; c < m; c++) x[i * m + c] -= lik * x[k * m + c];
    }
    const lii = l[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] /= lii;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = l[k * n + i];
      if (lki === 0) continue;
      for (let c = 0; c < m; c++) x[i * m + c] -= lki * x[k * m + c];
    }
    const lii = l[i * n + i];
    for (let c = 0; c < m; c++) x[i * m + c] /= lii;
  }
  return x;
}
