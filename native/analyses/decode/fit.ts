// Fitting and evaluating the affine lenses on a corpus of token sequences:
// - linear shortcut: per layer, ridge least squares from the layer's state to the last block's output;
// - tuned lens: per layer, an affine translator trained by Adam on KL(model output ‖ lens).
// Both are evaluated on held-out texts against the logit lens (KL to the output, top-1 agreement,
// next-token cross-entropy; R² of the predicted last state for the shortcut).
import type { LensEval, LensKind, LensLayerEval } from '../../../protocol';
import type { Engine, Mat } from '../../engine/api';
import { ModelError } from '../../onnx/errors';
import { collectStates, lensGrid, nextTokenTargets, type AffineLens } from './lens';
import { GramAccumulator, r2, solveAffine } from './leastSquares';
import { TranslatorTrainer } from './tunedLens';

export interface FitOptions {
  kind: AffineLens['kind'];
  /** Fraction of texts held out (default 0.2). */
  heldOut?: number;
  ridge?: number;
  steps?: number;
  learningRate?: number;
  /** Tokens per Adam step (default 256). */
  batch?: number;
  /** Tokens kept for training the tuned lens (default 8192). */
  maxTrainTokens?: number;
  seed?: number;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

export interface FittedLens {
  lens: AffineLens;
  trainTokens: number;
  heldOutTokens: number;
  /** Held-out evaluation: the logit lens, then the fitted lens. */
  evals: LensEval[];
  curve?: { step: number; kl: number }[];
}

/** Largest G·N·V the training graph may materialise per run. */
const GRAD_ELEMENTS = 1 << 24;

export const FIT_DEFAULTS = { heldOut: 0.2, ridge: 1e-6, steps: 300, learningRate: 3e-3, batch: 256, maxTrainTokens: 8192, seed: 1 };

/** Deterministic split: every k-th text is held out (at least one text on each side). */
function splitHeldOut<T>(texts: T[], fraction: number): { train: T[]; heldOut: T[] } {
  if (texts.length < 2) throw new ModelError('BAD_DATASET', 'Fitting a lens needs at least two texts (one is held out)');
  if (!(fraction > 0 && fraction < 1)) throw new ModelError('BAD_REQUEST', 'heldOut must be between 0 and 1');
  const every = Math.max(2, Math.round(1 / fraction));
  const heldOut = texts.filter((_, i) => i % every === every - 1);
  const train = texts.filter((_, i) => i % every !== every - 1);
  if (heldOut.length === 0) heldOut.push(train.pop()!);
  return { train, heldOut };
}

/** Fits a shortcut or tuned lens on `texts` (token id sequences) and evaluates it on held-out texts. */
export async function fitLens(engine: Engine, texts: number[][], options: FitOptions): Promise<FittedLens> {
  const o = { ...FIT_DEFAULTS, ...options };
  const { train, heldOut } = splitHeldOut(texts, o.heldOut);
  const progress = o.onProgress ?? (() => {});
  const L = engine.layerMap.numLayers;
  const d = engine.layerMap.hiddenSize;
  const trainTokens = train.reduce((n, t) => n + t.length, 0);
  const heldOutTokens = heldOut.reduce((n, t) => n + t.length, 0);
  let lens: AffineLens;
  let curve: FittedLens['curve'];
  let r2s: number[] | undefined;

  if (o.kind === 'shortcut') {
    const fitAcc = await GramAccumulator.create(d, L);
    const evalAcc = await GramAccumulator.create(d, L);
    try {
      for (const [i, ids] of train.entries()) {
        await addGrams(fitAcc, await collectStates(engine, ids, o.signal));
        progress((0.6 * (i + 1)) / train.length, `least squares: text ${i + 1}/${train.length}`);
      }
      const maps = Array.from({ length: L }, (_, g) => solveAffine(fitAcc.grams, g, o.ridge));
      lens = withIdentityLast('shortcut', d, maps.map((f) => f.m), maps.map((f) => f.b));
      for (const ids of heldOut) await addGrams(evalAcc, await collectStates(engine, ids, o.signal));
      r2s = [...maps.map((f, g) => r2(evalAcc.grams, g, f)), 1];
    } finally {
      await fitAcc.dispose();
      await evalAcc.dispose();
    }
  } else {
    const V = engine.layerMap.vocabSize;
    const trainSet = await stackStates(engine, train, Math.min(o.maxTrainTokens, trainTokens), o.signal);
    const evalSet = await stackStates(engine, heldOut, Math.min(o.maxTrainTokens, heldOutTokens), o.signal);
    progress(0.2, 'training translators');
    const trainer = await TranslatorTrainer.create(engine.headWeights());
    const rows = Math.max(1, Math.floor(GRAD_ELEMENTS / (L * V)));
    curve = [];
    try {
      const heldOutKl = async (m: Float32Array, b: Float32Array): Promise<number[]> => {
        const sum = new Float64Array(L);
        for (let n0 = 0; n0 < evalSet.n; n0 += rows) {
          const nc = Math.min(rows, evalSet.n - n0);
          const slice = sliceTokens(evalSet, n0, nc, d, L);
          const { loss } = await trainer.grad(slice.states, slice.final, L, nc, m, b);
          for (let g = 0; g < L; g++) sum[g] += loss[g] * nc;
        }
        return Array.from(sum, (s) => s / evalSet.n);
      };
      const fitted = await trainer.train(trainSet.states, trainSet.final, L, trainSet.n, {
        steps: o.steps,
        learningRate: o.learningRate,
        batch: Math.min(o.batch, rows),
        seed: o.seed,
        signal: o.signal,
        evalEvery: Math.max(1, Math.round(o.steps / 10)),
        onEval: async (step, m, b) => {
          const kl = await heldOutKl(m, b);
          const mean = kl.reduce((s, x) => s + x, 0) / L;
          curve!.push({ step, kl: mean });
          progress(0.2 + (0.7 * step) / o.steps, `tuned lens: step ${step}/${o.steps}, held-out KL ${mean.toFixed(3)}`);
        },
      });
      lens = withIdentityLast(
        'tuned',
        d,
        Array.from({ length: L }, (_, g) => fitted.m.slice(g * d * d, (g + 1) * d * d)),
        Array.from({ length: L }, (_, g) => fitted.b.slice(g * d, (g + 1) * d)),
      );
    } finally {
      await trainer.dispose();
    }
  }
  progress(0.9, 'evaluating on held-out texts');
  const evals = await evaluateLenses(engine, heldOut, [undefined, lens], o.signal);
  if (r2s) evals[1].layers.forEach((l, i) => (l.r2 = r2s![i]));
  progress(1, 'done');
  return { lens, trainTokens, heldOutTokens, evals, curve };
}

/** Held-out quality per layer of each lens (undefined = the logit lens), over all positions of `texts`. */
export async function evaluateLenses(engine: Engine, texts: number[][], lenses: (AffineLens | undefined)[], signal?: AbortSignal): Promise<LensEval[]> {
  const G = engine.layerMap.numLayers + 1;
  const acc = lenses.map(() => ({ kl: new Float64Array(G), top1: new Float64Array(G), ce: new Float64Array(G) }));
  let positions = 0;
  let cePositions = 0;
  for (const ids of texts) {
    const states = await collectStates(engine, ids, signal);
    const targets = nextTokenTargets(ids);
    for (const [li, lens] of lenses.entries()) {
      const { grid } = await lensGrid(engine, states, { targets, k: 1, lens });
      const a = acc[li];
      for (let g = 0; g < G; g++) {
        for (let t = 0; t < ids.length; t++) {
          a.kl[g] += grid.kl[g][t];
          if (grid.topIds[g][t][0] === grid.topIds[G - 1][t][0]) a.top1[g]++;
          if (t + 1 < ids.length) a.ce[g] -= Math.log(Math.max(grid.targetProb[g][t], 1e-30));
        }
      }
    }
    positions += ids.length;
    cePositions += ids.length - 1;
  }
  return lenses.map((lens, li): LensEval => ({
    lens: (lens?.kind ?? 'logit') as LensKind,
    layers: Array.from({ length: G }, (_, g): LensLayerEval => ({
      kl: acc[li].kl[g] / positions,
      top1: acc[li].top1[g] / positions,
      ce: cePositions > 0 ? acc[li].ce[g] / cePositions : Number.NaN,
    })),
  }));
}

/** Adds one text's states: every layer but the last predicts the last. */
async function addGrams(acc: GramAccumulator, states: Mat[]): Promise<void> {
  const L = states.length - 1;
  await acc.add(states.slice(0, L).map((s) => s.data), states[L].data, states[L].rows);
}

/** Token states of `texts` stacked group-major: states [L, n, d] (layers 0..L-1), final [n, d]. */
async function stackStates(engine: Engine, texts: number[][], maxTokens: number, signal?: AbortSignal): Promise<{ states: Float32Array; final: Float32Array; n: number }> {
  const L = engine.layerMap.numLayers;
  const d = engine.layerMap.hiddenSize;
  const per: Mat[][] = [];
  let n = 0;
  for (const ids of texts) {
    if (n >= maxTokens) break;
    per.push(await collectStates(engine, ids, signal));
    n += ids.length;
  }
  n = Math.min(n, maxTokens);
  const states = new Float32Array(L * n * d);
  const final = new Float32Array(n * d);
  let row = 0;
  for (const s of per) {
    const take = Math.min(s[0].rows, n - row);
    for (let g = 0; g < L; g++) states.set(s[g].data.subarray(0, take * d), (g * n + row) * d);
    final.set(s[L].data.subarray(0, take * d), row * d);
    row += take;
  }
  return { states, final, n };
}

function sliceTokens(set: { states: Float32Array; final: Float32Array; n: number }, n0: number, nc: number, d: number, L: number): { states: Float32Array; final: Float32Array } {
  const states = new Float32Array(L * nc * d);
  for (let g = 0; g < L; g++) states.set(set.states.subarray((g * set.n + n0) * d, (g * set.n + n0 + nc) * d), g * nc * d);
  return { states, final: set.final.slice(n0 * d, (n0 + nc) * d) };
}

function withIdentityLast(kind: AffineLens['kind'], d: number, m: Float32Array[], b: Float32Array[]): AffineLens {
  const eye = new Float32Array(d * d);
  for (let i = 0; i < d; i++) eye[i * d + i] = 1;
  return { kind, hidden: d, m: [...m, eye], b: [...b, new Float32Array(d)] };
}
