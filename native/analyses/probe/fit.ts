// Fits and evaluates the probes of every layer from an activation cache: cross-validated logistic,
// mass-mean and control probes per layer, the majority and random-features baselines, linear CKA
// between layers, and one final probe per layer on all examples (to save and apply later).
// Runs inside the fitting worker; reads one layer's features at a time.
import type { FoldInterval, ProbeLayerResult } from '../../../protocol';
import { FeatureCache } from './cache';
import { evaluateLayer, fitProbe, majorityBaseline, makeFolds, type CvOptions } from './cv';
import { centredGram, linearCka } from './repmetrics';
import { foldInterval, median, rng, shuffle } from './stats';

/** Examples used for the CKA Gram matrices (a seeded subsample when there are more). */
export const CKA_MAX_EXAMPLES = 400;

export interface FitJob {
  cacheDir: string;
  classes: number;
  y: Int32Array;
  yControl: Int32Array;
  groups?: Int32Array;
  folds: number;
  seed: number;
  lambdas?: number[];
  innerFolds?: number;
  maxIterations?: number;
}

/** One layer's final probe, fit on all examples: standardise, then softmax(W z + b). */
export interface TrainedLayerProbe {
  name: string;
  mean: number[];
  invStd: number[];
  /** [classes, hidden] row-major. */
  weights: number[];
  bias: number[];
  lambda: number;
  accuracy: number;
}

export interface FitOutput {
  layers: ProbeLayerResult[];
  majority: FoldInterval;
  randomFeatures: FoldInterval;
  cka: number[][];
  bestLayer: number;
  conceptDepth: number;
  probes: TrainedLayerProbe[];
  fitMs: number;
}

/** First layer whose mean accuracy reaches 90% of the best layer's. */
export function conceptDepth(accuracy: number[]): number {
  const best = Math.max(...accuracy);
  return accuracy.findIndex((a) => a >= 0.9 * best);
}

/** Fits every feature set of the cache; checks `signal` between feature sets. */
export async function runFits(job: FitJob, onLayer?: (done: number, total: number) => void, signal?: AbortSignal): Promise<FitOutput> {
  const t0 = performance.now();
  const cache = await FeatureCache.load(job.cacheDir);
  const { hidden: d, examples: n, features } = cache.manifest;
  if (job.y.length !== n) throw new Error(`the cache holds ${n} examples, the labels ${job.y.length}`);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const fold = makeFolds(all, job.y, job.folds, job.seed, job.groups);
  const opts: CvOptions = { folds: job.folds, seed: job.seed, lambdas: job.lambdas, innerFolds: job.innerFolds, maxIterations: job.maxIterations };
  const ckaRows = Int32Array.from(shuffle([...all], rng(job.seed + 3)).slice(0, CKA_MAX_EXAMPLES)).sort();
  const grams: Float64Array[] = [];
  const layers: ProbeLayerResult[] = [];
  const probes: TrainedLayerProbe[] = [];
  let randomFeatures: FoldInterval = { mean: NaN, lo: NaN, hi: NaN };
  for (let f = 0; f < features.length; f++) {
    signal?.throwIfAborted();
    const X = await cache.readFeature(f);
    const ev = evaluateLayer(X, d, job.y, job.yControl, job.classes, fold, opts, job.groups);
    const accuracy = foldInterval(ev.accuracy);
    if (features[f] === 'random') {
      randomFeatures = accuracy;
    } else {
      const controlAccuracy = foldInterval(ev.controlAccuracy);
      const lambda = median(ev.lambdas);
      layers.push({
        name: features[f],
        accuracy,
        macroF1: foldInterval(ev.macroF1),
        massMeanAccuracy: foldInterval(ev.massMeanAccuracy),
        controlAccuracy,
        selectivity: accuracy.mean - controlAccuracy.mean,
        lambda,
        confusion: ev.confusion,
      });
      const final = fitProbe(X, d, job.y, job.classes, all, lambda, job.maxIterations);
      const C = job.classes;
      probes.push({
        name: features[f],
        mean: Array.from(final.standardizer.mean),
        invStd: Array.from(final.standardizer.invStd),
        weights: Array.from(final.model.params.subarray(0, C * d)),
        bias: Array.from(final.model.params.subarray(C * d)),
        lambda,
        accuracy: accuracy.mean,
      });
      grams.push(centredGram(X, d, ckaRows));
    }
    onLayer?.(f + 1, features.length);
  }
  const acc = layers.map((l) => l.accuracy.mean);
  return {
    layers,
    majority: foldInterval(majorityBaseline(job.y, job.classes, fold, job.folds)),
    randomFeatures,
    cka: grams.map((K) => grams.map((L) => linearCka(K, L))),
    bestLayer: acc.indexOf(Math.max(...acc)),
    conceptDepth: conceptDepth(acc),
    probes,
    fitMs: performance.now() - t0,
  };
}
