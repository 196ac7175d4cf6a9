// Multinomial logistic regression with an L2 penalty on the weights (not the biases), fitted with
// L-BFGS on standardised features, plus the standardiser itself (fit on training rows only).
import { minimizeLbfgs } from './lbfgs';

/** Per-feature mean and 1/std, from training rows only. */
export interface Standardizer {
  mean: Float64Array;
  invStd: Float64Array;
}

/** Fits a standardiser on `rows` of the row-major matrix X [*, d]. Constant features get invStd 1. */
export function fitStandardizer(X: Float32Array, d: number, rows: ArrayLike<number>): Standardizer {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < rows.length; r++) {
    const off = rows[r] * d;
    for (let j = 0; j < d; j++) mean[j] += X[off + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= rows.length;
  for (let r = 0; r < rows.length; r++) {
    const off = rows[r] * d;
    for (let j = 0; j < d; j++) {
      const v = X[off + j] - mean[j];
      sq[j] += v * v;
    }
  }
  const invStd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(sq[j] / rows.length);
    invStd[j] = sd > 1e-8 ? 1 / sd : 1;
  }
  return { mean, invStd };
}

/** Standardised copy of `rows` of X: [rows.length, d] float64. */
export function standardize(X: Float32Array, d: number, rows: ArrayLike<number>, st: Standardizer): Float64Array {
  const Z = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * d;
    const dst = r * d;
    for (let j = 0; j < d; j++) Z[dst + j] = (X[src + j] - st.mean[j]) * st.invStd[j];
  }
  return Z;
}

/** Softmax-regression parameters: class c has weights W[c*d .. c*d+d) and bias b[c]. Packed as [W | b]. */
export interface SoftmaxModel {
  classes: number;
  dim: number;
  params: Float64Array;
}

/** Class scores (logits) of one standardised row. */
function scores(model: SoftmaxModel, Z: Float64Array, off: number, out: Float64Array): void {
  const { classes: C, dim: d, params } = model;
  const bias = C * d;
  for (let c = 0; c < C; c++) {
    let s = params[bias + c];
    const w = c * d;
    for (let j = 0; j < d; j++) s += params[w + j] * Z[off + j];
    out[c] = s;
  }
}

/** In-place softmax. */
function softmaxInPlace(s: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < s.length; c++) if (s[c] > max) max = s[c];
  let sum = 0;
  for (let c = 0; c < s.length; c++) sum += Math.exp(s[c] - max);
  const lse = max + Math.log(sum);
  for (let c = 0; c < s.length; c++) s[c] = Math.exp(s[c] - lse);
}

/**
 * The two-class case of the loss/gradient pass in one sweep over each row (both class scores, then both
 * gradient rows): the same numbers as the general loop, half the passes over memory. Returns the summed loss.
 */
function binaryPass(x: Float64Array, g: Float64Array, Z: Float64Array, d: number, y: ArrayLike<number>, n: number): number {
  const b0 = x[2 * d];
  const b1 = x[2 * d + 1];
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let s0 = b0;
    let s1 = b1;
    for (let j = 0; j < d; j++) {
      const z = Z[off + j];
      s0 += x[j] * z;
      s1 += x[d + j] * z;
    }
    // p1 = sigmoid(s1 - s0); loss = softplus of the wrong-class margin.
    const m = s1 - s0;
    const p1 = m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
    const yi = y[i];
    loss += yi === 1 ? (m >= 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m))) : m >= 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    const r1 = p1 - (yi === 1 ? 1 : 0);
    const r0 = -r1;
    for (let j = 0; j < d; j++) {
      const z = Z[off + j];
      g[j] += r0 * z;
      g[d + j] += r1 * z;
    }
    g[2 * d] += r0;
    g[2 * d + 1] += r1;
  }
  return loss;
}

export interface FitOptions {
  init?: Float64Array;
  maxIterations?: number;
}

/**
 * Minimises mean cross-entropy + (lambda/2)·||W||² over standardised rows Z [n, d] with labels y in [0, classes).
 */
export function fitSoftmax(Z: Float64Array, d: number, y: ArrayLike<number>, classes: number, lambda: number, opts: FitOptions = {}): SoftmaxModel {
  const n = y.length;
  const C = classes;
  const size = C * (d + 1);
  const probe: SoftmaxModel = { classes: C, dim: d, params: new Float64Array(size) };
  const p = new Float64Array(C);
  const objective = (x: Float64Array, g: Float64Array): number => {
    probe.params = x;
    g.fill(0);
    let loss = C === 2 ? binaryPass(x, g, Z, d, y, n) : 0;
    for (let i = 0; i < (C === 2 ? 0 : n); i++) {
      const off = i * d;
      scores(probe, Z, off, p);
      softmaxInPlace(p);
      loss -= Math.log(Math.max(p[y[i]], 1e-300));
      p[y[i]] -= 1;
      for (let c = 0; c < C; c++) {
        const r = p[c];
        if (r === 0) continue;
        const w = c * d;
        for (let j = 0; j < d; j++) g[w + j] += r * Z[off + j];
        g[C * d + c] += r;
      }
    }
    const inv = 1 / n;
    let reg = 0;
    for (let k = 0; k < C * d; k++) {
      g[k] = g[k] * inv + lambda * x[k];
      reg += x[k] * x[k];
    }
    for (let c = 0; c < C; c++) g[C * d + c] *= inv;
    return loss * inv + 0.5 * lambda * reg;
  };
  const x0 = opts.init && opts.init.length === size ? opts.init : new Float64Array(size);
  // A relative gradient of 1e-4 leaves predictions unchanged in practice and halves the iterations.
  const res = minimizeLbfgs(objective, x0, { maxIterations: opts.maxIterations ?? 100, gradTolerance: 1e-4 });
  return { classes: C, dim: d, params: res.x };
}

/** Class probabilities of standardised rows Z [n, d]: [n, classes]. */
export function predictProba(model: SoftmaxModel, Z: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * model.classes);
  const s = new Float64Array(model.classes);
  for (let i = 0; i < n; i++) {
    scores(model, Z, i * model.dim, s);
    softmaxInPlace(s);
    out.set(s, i * model.classes);
  }
  return out;
}

/** Argmax class of each row of a [n, classes] probability matrix. */
export function argmaxRows(P: Float64Array, classes: number): Int32Array {
  const n = P.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (P[i * classes + c] > P[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Mean negative log-likelihood of labels y under probabilities P [n, classes]. */
export function logLoss(P: Float64Array, y: ArrayLike<number>, classes: number): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s -= Math.log(Math.max(P[i * classes + y[i]], 1e-15));
  return s / y.length;
}
