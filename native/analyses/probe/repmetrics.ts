// Representation metrics per layer: prompt entropy (matrix-based entropy of the token Gram matrix,
// as in "Layer by Layer", Skean et al.), trajectory curvature (mean turning angle between successive
// token steps, Hosseini & Fedorenko) and linear CKA between layers (Kornblith et al.).
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Longest token window the entropy is computed on (the last tokens), to bound the eigen-solve. */
export const ENTROPY_MAX_TOKENS = 128;

/**
 * Von Neumann entropy of the trace-normalised Gram matrix of token states H [T, d] (row-major),
 * divided by log T, so 0 = one direction, 1 = T equally strong orthogonal directions. NaN for T < 2.
 */
export function promptEntropy(H: Float32Array, T: number, d: number): number {
  const start = Math.max(0, T - ENTROPY_MAX_TOKENS);
  const t = T - start;
  if (t < 2) return NaN;
  // The non-zero eigenvalues of Z Zᵀ [t, t] and Zᵀ Z [d, d] agree: decompose the smaller one.
  const small = Math.min(t, d);
  const G = new Matrix(small, small);
  for (let a = 0; a < small; a++) {
    for (let b = a; b < small; b++) {
      let s = 0;
      if (t <= d) for (let j = 0; j < d; j++) s += H[(start + a) * d + j] * H[(start + b) * d + j];
      else for (let r = start; r < T; r++) s += H[r * d + a] * H[r * d + b];
      G.set(a, b, s);
      G.set(b, a, s);
    }
  }
  const eig = new EigenvalueDecomposition(G, { assumeSymmetric: true }).realEigenvalues.map((v) => Math.max(0, v));
  const trace = eig.reduce((x, y) => x + y, 0);
  if (!(trace > 0)) return NaN;
  let h = 0;
  for (const v of eig) if (v > 0) h -= (v / trace) * Math.log(v / trace);
  return h / Math.log(t);
}

/** Mean angle (radians) between successive steps h_{t+1} − h_t of the token trajectory. NaN for T < 3. */
export function curvature(H: Float32Array, T: number, d: number): number {
  if (T < 3) return NaN;
  let sum = 0;
  let count = 0;
  const prev = new Float64Array(d);
  const cur = new Float64Array(d);
  for (let j = 0; j < d; j++) prev[j] = H[d + j] - H[j];
  for (let t = 2; t < T; t++) {
    let dot = 0;
    let np = 0;
    let nc = 0;
    for (let j = 0; j < d; j++) {
      cur[j] = H[t * d + j] - H[(t - 1) * d + j];
      dot += prev[j] * cur[j];
      np += prev[j] * prev[j];
      nc += cur[j] * cur[j];
    }
    if (np > 0 && nc > 0) {
      sum += Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(np * nc))));
      count++;
    }
    prev.set(cur);
  }
  return count ? sum / count : NaN;
}

/** Column-centred Gram matrix X Xᵀ of the chosen rows of X [*, d]: the per-layer input to linear CKA. */
export function centredGram(X: Float32Array, d: number, rows: ArrayLike<number>): Float64Array {
  const m = rows.length;
  const mean = new Float64Array(d);
  for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) mean[j] += X[rows[r] * d + j] / m;
  const Z = new Float64Array(m * d);
  for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) Z[r * d + j] = X[rows[r] * d + j] - mean[j];
  const K = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a; b < m; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Z[a * d + j] * Z[b * d + j];
      K[a * m + b] = s;
      K[b * m + a] = s;
    }
  }
  return K;
}

/** Linear CKA from two centred Gram matrices: <K, L>_F / (‖K‖_F ‖L‖_F). */
export function linearCka(K: Float64Array, L: Float64Array): number {
  let kl = 0;
  let kk = 0;
  let ll = 0;
  for (let i = 0; i < K.length; i++) {
    kl += K[i] * L[i];
    kk += K[i] * K[i];
    ll += L[i] * L[i];
  }
  return kk > 0 && ll > 0 ? kl / Math.sqrt(kk * ll) : NaN;
}
