// Representation metrics per layer: prompt entropy (matrix-based entropy of the token Gram matrix,
// as in "Layer by Layer", Skean et al.), trajectory curvature (mean turning angle between successive
// token steps, Hosseini & Fedorenko) and linear CKA between layers (Kornblith et al.).

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
  const n = Math.min(t, d);
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      if (t <= d) for (let j = 0; j < d; j++) s += H[(start + a) * d + j] * H[(start + b) * d + j];
      else for (let r = start; r < T; r++) s += H[r * d + a] * H[r * d + b];
      G[a * n + b] = s;
      G[b * n + a] = s;
    }
  }
  const eig = Array.from(symmetricEigenvalues(G, n), (v) => Math.max(0, v));
  const trace = eig.reduce((x, y) => x + y, 0);
  if (!(trace > 0)) return NaN;
  let h = 0;
  for (const v of eig) if (v > 0) h -= (v / trace) * Math.log(v / trace);
  return h / Math.log(t);
}

/**
 * Eigenvalues of a symmetric matrix A [n, n] (row-major, overwritten) by cyclic Jacobi rotations.
 * Small matrices only (here n <= ENTROPY_MAX_TOKENS): O(n³) per sweep, a handful of sweeps.
 */
export function symmetricEigenvalues(A: Float64Array, n: number): Float64Array {
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = A[i * n + j] * A[i * n + j];
        total += v;
        if (i !== j) off += v;
      }
    }
    if (off <= 1e-22 * total) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p];
          const akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k];
          const aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => A[i * n + i]);
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
