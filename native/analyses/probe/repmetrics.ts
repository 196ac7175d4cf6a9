// Representation metrics per layer: prompt entropy (matrix-based entropy of the token Gram matrix,
// as in "Layer by Layer", Skean et al.), trajectory curvature (mean turning angle between successive
// token steps, Hosseini & Fedorenko) and linear CKA between layers (Kornblith et al.).

/** Longest token window the entropy is computed on (the last tokens), to bound the eigen-solve. */
export const ENTROPY_MAX_TOKENS = 128;

/** About this many examples (evenly strided through the data set) get a prompt entropy: it is a mean. */
export const ENTROPY_SAMPLE = 128;

/** Whether example `index` of `count` is in the prompt-entropy sample. */
export function inEntropySample(index: number, count: number): boolean {
  return index % Math.max(1, Math.ceil(count / ENTROPY_SAMPLE)) === 0;
}

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
  if (t <= d) {
    // Token x token dot products over contiguous rows, four accumulators (the hot loop of extraction).
    for (let a = 0; a < n; a++) {
      const ra = H.subarray((start + a) * d, (start + a + 1) * d);
      for (let b = a; b < n; b++) {
        const rb = H.subarray((start + b) * d, (start + b + 1) * d);
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let j = 0;
        for (; j + 3 < d; j += 4) {
          s0 += ra[j] * rb[j];
          s1 += ra[j + 1] * rb[j + 1];
          s2 += ra[j + 2] * rb[j + 2];
          s3 += ra[j + 3] * rb[j + 3];
        }
        for (; j < d; j++) s0 += ra[j] * rb[j];
        const s = s0 + s1 + s2 + s3;
        G[a * n + b] = s;
        G[b * n + a] = s;
      }
    }
  } else {
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let r = start; r < T; r++) s += H[r * d + a] * H[r * d + b];
        G[a * n + b] = s;
        G[b * n + a] = s;
      }
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
 * Eigenvalues of a symmetric matrix A [n, n] (row-major, overwritten): Householder reduction to
 * tridiagonal form, then the implicit QL method (tred2 / tqli as in Numerical Recipes, eigenvalues only).
 */
export function symmetricEigenvalues(A: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const a = (i: number, j: number) => A[i * n + j];
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a(i, k));
      if (scale === 0) {
        e[i] = a(i, l);
      } else {
        for (let k = 0; k <= l; k++) {
          A[i * n + k] /= scale;
          h += a(i, k) * a(i, k);
        }
        let f = a(i, l);
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        A[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          g = 0;
          for (let k = 0; k <= j; k++) g += a(j, k) * a(i, k);
          for (let k = j + 1; k <= l; k++) g += a(k, j) * a(i, k);
          e[j] = g / h;
          f += e[j] * a(i, j);
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = a(i, j);
          e[j] = g = e[j] - hh * f;
          for (let k = 0; k <= j; k++) A[j * n + k] -= f * e[k] + g * a(i, k);
        }
      }
    } else {
      e[i] = a(i, l);
    }
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = a(i, i);
  // Implicit QL with Wilkinson-style shifts on the tridiagonal (d, e).
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter === 60) throw new Error('eigenvalues did not converge');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        e[i + 1] = r = Math.hypot(f, g);
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
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
