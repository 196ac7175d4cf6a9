// Cross-validated evaluation of one layer's pooled features: the L2 logistic probe (lambda chosen by
// inner cross-validation on the training folds only), the difference-of-means probe, and the same
// logistic probe on control labels. Standardisation is always fit on the training rows of a fold.
import { argmaxRows, fitSoftmax, fitStandardizer, logLoss, predictProba, standardize, type SoftmaxModel, type Standardizer } from './logistic';
import { accuracy, addConfusion, macroF1, rng, shuffle } from './stats';

/** Default L2 grid (mean cross-entropy + lambda/2 ||W||² on standardised features), strongest first: warm starts run down the path. */
export const DEFAULT_LAMBDAS = [1e-1, 1e-2, 1e-3];

/** Iteration cap of the fits that only choose lambda (inner folds). */
const INNER_MAX_ITERATIONS = 50;

export interface CvOptions {
  folds: number;
  seed: number;
  lambdas?: number[];
  innerFolds?: number;
  maxIterations?: number;
  /** Observer of each outer fold's split and fitted probe (tests check for leaks with it). */
  onFold?: (fold: number, train: Int32Array, test: Int32Array, probe: FittedProbe) => void;
}

/**
 * Fold index of each of `rows` (indices into y): stratified by label, or grouped (every group in one
 * fold, folds balanced by label) when `groups` is given.
 */
export function makeFolds(rows: ArrayLike<number>, y: ArrayLike<number>, k: number, seed: number, groups?: ArrayLike<number>): Int32Array {
  const rand = rng(seed);
  const fold = new Int32Array(rows.length);
  if (groups) {
    // Stratified group k-fold: each group goes, by its majority label, to the fold holding the fewest
    // examples of that label (ties: the smallest fold), so folds stay label-balanced.
    const members = new Map<number, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const g = groups[rows[i]];
      if (!members.has(g)) members.set(g, []);
      members.get(g)!.push(i);
    }
    if (members.size < k) throw new Error(`Grouped ${k}-fold cross-validation needs at least ${k} groups; the data has ${members.size}.`);
    const majorityLabel = (m: number[]) => {
      const count = new Map<number, number>();
      for (const i of m) count.set(y[rows[i]], (count.get(y[rows[i]]) ?? 0) + 1);
      return [...count].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
    };
    const order = shuffle([...members.values()], rand).sort((a, b) => b.length - a.length);
    const size = new Array<number>(k).fill(0);
    const perLabel = new Map<number, number[]>();
    for (const m of order) {
      const label = majorityLabel(m);
      if (!perLabel.has(label)) perLabel.set(label, new Array<number>(k).fill(0));
      const lc = perLabel.get(label)!;
      let f = 0;
      for (let j = 1; j < k; j++) if (lc[j] < lc[f] || (lc[j] === lc[f] && size[j] < size[f])) f = j;
      for (const i of m) fold[i] = f;
      size[f] += m.length;
      lc[f] += m.length;
    }
    return fold;
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const c = y[rows[i]];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const i of shuffle(byClass.get(c)!, rand)) fold[i] = next++ % k;
  }
  return fold;
}

/** Rows of `rows` whose fold is (or is not) `f`. */
function split(rows: ArrayLike<number>, fold: Int32Array, f: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < rows.length; i++) (fold[i] === f ? test : train).push(rows[i]);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

function pick(y: ArrayLike<number>, rows: Int32Array): Int32Array {
  return Int32Array.from(rows, (r) => y[r]);
}

/** A fitted probe: standardiser + softmax model, both from training rows only. */
export interface FittedProbe {
  standardizer: Standardizer;
  model: SoftmaxModel;
}

export function fitProbe(X: Float32Array, d: number, y: ArrayLike<number>, classes: number, rows: Int32Array, lambda: number, maxIterations?: number): FittedProbe {
  const standardizer = fitStandardizer(X, d, rows);
  const model = fitSoftmax(standardize(X, d, rows, standardizer), d, pick(y, rows), classes, lambda, { maxIterations });
  return { standardizer, model };
}

export function predictProbe(probe: FittedProbe, X: Float32Array, d: number, rows: Int32Array): Int32Array {
  const P = predictProba(probe.model, standardize(X, d, rows, probe.standardizer), rows.length);
  return argmaxRows(P, probe.model.classes);
}

/** Lambda with the lowest mean validation log-loss over inner folds of `rows`. */
export function chooseLambda(X: Float32Array, d: number, y: ArrayLike<number>, classes: number, rows: Int32Array, opts: CvOptions, groups?: ArrayLike<number>): number {
  const lambdas = opts.lambdas ?? DEFAULT_LAMBDAS;
  if (lambdas.length === 1) return lambdas[0];
  const k = opts.innerFolds ?? 3;
  const fold = makeFolds(rows, y, k, opts.seed + 7919, groups);
  const loss = new Float64Array(lambdas.length);
  for (let f = 0; f < k; f++) {
    const { train, test } = split(rows, fold, f);
    if (test.length === 0 || train.length === 0) continue;
    const st = fitStandardizer(X, d, train);
    const Ztr = standardize(X, d, train, st);
    const Zte = standardize(X, d, test, st);
    const ytr = pick(y, train);
    const yte = pick(y, test);
    let init: Float64Array | undefined;
    lambdas.forEach((lambda, li) => {
      // Choosing lambda needs only approximate fits.
      const model = fitSoftmax(Ztr, d, ytr, classes, lambda, { init, maxIterations: Math.min(opts.maxIterations ?? INNER_MAX_ITERATIONS, INNER_MAX_ITERATIONS) });
      init = model.params;
      loss[li] += logLoss(predictProba(model, Zte, test.length), yte, classes);
    });
  }
  let best = 0;
  for (let i = 1; i < lambdas.length; i++) if (loss[i] < loss[best]) best = i;
  return lambdas[best];
}

/** Per-fold numbers for one layer. */
export interface LayerEvaluation {
  accuracy: number[];
  macroF1: number[];
  massMeanAccuracy: number[];
  controlAccuracy: number[];
  lambdas: number[];
  /** Summed over test folds, [true][pred]. */
  confusion: number[][];
}

/** Nearest class mean in the standardised space of the training rows (difference of means for two classes). */
function massMeanPredict(X: Float32Array, d: number, y: ArrayLike<number>, classes: number, train: Int32Array, test: Int32Array): Int32Array {
  const st = fitStandardizer(X, d, train);
  const Ztr = standardize(X, d, train, st);
  const means = new Float64Array(classes * d);
  const count = new Float64Array(classes);
  for (let i = 0; i < train.length; i++) {
    const c = y[train[i]];
    count[c]++;
    for (let j = 0; j < d; j++) means[c * d + j] += Ztr[i * d + j];
  }
  for (let c = 0; c < classes; c++) for (let j = 0; j < d; j++) means[c * d + j] /= Math.max(1, count[c]);
  const Zte = standardize(X, d, test, st);
  const out = new Int32Array(test.length);
  for (let i = 0; i < test.length; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < classes; c++) {
      if (count[c] === 0) continue;
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (Zte[i * d + j] - means[c * d + j]) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * Evaluates features X [n, d] with outer folds `fold` (from makeFolds over all rows).
 * `yControl` are the control-task labels (same classes); their probe uses the fold's chosen lambda.
 */
export function evaluateLayer(X: Float32Array, d: number, y: ArrayLike<number>, yControl: ArrayLike<number>, classes: number, fold: Int32Array, opts: CvOptions, groups?: ArrayLike<number>): LayerEvaluation {
  const n = y.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const ev: LayerEvaluation = { accuracy: [], macroF1: [], massMeanAccuracy: [], controlAccuracy: [], lambdas: [], confusion: Array.from({ length: classes }, () => new Array<number>(classes).fill(0)) };
  for (let f = 0; f < opts.folds; f++) {
    const { train, test } = split(all, fold, f);
    if (test.length === 0) continue;
    const lambda = chooseLambda(X, d, y, classes, train, { ...opts, seed: opts.seed + f }, groups);
    const probe = fitProbe(X, d, y, classes, train, lambda, opts.maxIterations);
    opts.onFold?.(f, train, test, probe);
    const yTest = pick(y, test);
    const pred = predictProbe(probe, X, d, test);
    ev.accuracy.push(accuracy(yTest, pred));
    ev.macroF1.push(macroF1(yTest, pred, classes));
    addConfusion(ev.confusion, yTest, pred);
    ev.lambdas.push(lambda);
    ev.massMeanAccuracy.push(accuracy(yTest, massMeanPredict(X, d, y, classes, train, test)));
    const control = fitProbe(X, d, yControl, classes, train, lambda, opts.maxIterations);
    ev.controlAccuracy.push(accuracy(pick(yControl, test), predictProbe(control, X, d, test)));
  }
  return ev;
}

/** Accuracy per fold of predicting the training folds' majority class. */
export function majorityBaseline(y: ArrayLike<number>, classes: number, fold: Int32Array, folds: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < folds; f++) {
    const count = new Array<number>(classes).fill(0);
    let testN = 0;
    for (let i = 0; i < y.length; i++) if (fold[i] !== f) count[y[i]]++;
    const majority = count.indexOf(Math.max(...count));
    let hit = 0;
    for (let i = 0; i < y.length; i++) {
      if (fold[i] !== f) continue;
      testN++;
      if (y[i] === majority) hit++;
    }
    if (testN) out.push(hit / testN);
  }
  return out;
}
