// Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, Alg. 7.4 with a
// backtracking Armijo line search). Used to fit the L2-regularised logistic probes.

/** Writes the gradient at x into g and returns f(x). */
export type ObjectiveFn = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsOptions {
  maxIterations?: number;
  /** History size. */
  memory?: number;
  /** Stop when max |g_i| <= gradTolerance * max(1, |f|). */
  gradTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Minimises `fg` from `x0` (not modified). */
export function minimizeLbfgs(fg: ObjectiveFn, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const maxIterations = opts.maxIterations ?? 200;
  const m = opts.memory ?? 8;
  const tol = opts.gradTolerance ?? 1e-5;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const d = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  for (let iter = 0; iter < maxIterations; iter++) {
    if (maxAbs(g) <= tol * Math.max(1, Math.abs(f))) return { x, f, iterations: iter, converged: true };
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d);
      const yk = Y[k];
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * yk[i];
    }
    const gamma = S.length > 0 ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) d[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d);
      const sk = S[k];
      for (let i = 0; i < n; i++) d[i] += (alpha[k] - beta) * sk[i];
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i] / Math.max(1e-12, Math.sqrt(dot(g, g)));
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f + 1e-4 * step * slope)) return { x, f, iterations: iter, converged: false };
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    const fOld = f;
    f = fNew;
    if (Math.abs(fOld - f) <= 1e-12 * Math.max(1, Math.abs(f))) return { x, f, iterations: iter + 1, converged: true };
  }
  return { x, f, iterations: maxIterations, converged: false };
}
