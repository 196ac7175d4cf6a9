// Decode pillar: request/response types for the sidecar and the results the decode panel renders.
// Results are reduced: numbers per layer x token (top-k ids, entropies, divergences), never vocab-sized
// tensors per layer.
import type { TextInput } from './core';
import type { TokenSpan } from './model';
import type { WithProgress } from './rpc';

/** logit: final norm + head on each layer; shortcut: a least-squares map to the last layer first; tuned: a trained affine translator first. */
export type LensKind = 'logit' | 'shortcut' | 'tuned';
/** What colours a heatmap cell. */
export type DecodeMetric = 'prob' | 'entropy' | 'kl' | 'rank';

/** Lens statistics of one lens, [layer][token]; layer 0 is the embedding, layer i the output of block i-1. */
export interface LensGrid {
  lens: LensKind;
  /** Top-k token ids, [layer][token][k], most probable first. */
  topIds: number[][][];
  topProbs: number[][][];
  /** Entropy of the lens distribution, nats. */
  entropy: number[][];
  /** KL(model output ‖ lens), nats. */
  kl: number[][];
  targetProb: number[][];
  /** Tokens ranked above the target (0 = the target is the top-1). */
  targetRank: number[][];
}

export interface DecodeLayersParams extends TextInput, WithProgress {
  /** Lenses to compute (default ['logit']). shortcut / tuned need a lens fitted with decode/fitLens. */
  lenses?: LensKind[];
  /** Top tokens per cell (default 5). */
  topK?: number;
  /** A target token scored at every position: an id, or text (its first token). Default: each position's next prompt token, and the model's top-1 at the last position. */
  target?: number | string;
  /** Folder holding fitted lenses (the host's per-workspace storage). */
  lensDir?: string;
}

export interface DecodeLayersResult {
  modelName: string;
  numLayers: number;
  /** 'embed', 'block 0', …: one per grid row. */
  layerNames: string[];
  tokens: TokenSpan[];
  /** Target id per position. */
  targets: number[];
  /** Display text of every token id in the result (ids as strings). */
  vocab: Record<string, string>;
  grids: LensGrid[];
  elapsedMs: number;
}

/** Texts to fit or evaluate lenses on: files (.txt/.md: paragraphs; .jsonl: "text" or "prompt" field or a string per line; .csv: a "text" column) and/or inline texts. */
export interface CorpusSpec {
  files?: string[];
  texts?: string[];
}

/** Held-out quality of one lens at one layer. */
export interface LensLayerEval {
  /** Mean KL(model output ‖ lens), nats. */
  kl: number;
  /** Fraction of positions where the lens top-1 equals the model's top-1. */
  top1: number;
  /** Mean cross-entropy of the next prompt token, nats. */
  ce: number;
  /** Shortcut lens only: R² of the predicted final-layer state. */
  r2?: number;
}

export interface LensEval {
  lens: LensKind;
  /** One per layer (embed, block 0, …, last block). */
  layers: LensLayerEval[];
}

export interface FitLensParams extends WithProgress {
  modelId: string;
  kind: 'shortcut' | 'tuned';
  corpus: CorpusSpec;
  /** Folder where the fitted lens is cached (one file per model + corpus + options). */
  lensDir: string;
  /** Fraction of texts held out for evaluation (default 0.2). */
  heldOut?: number;
  /** Shortcut: ridge strength relative to the mean diagonal of XᵀX (default 1e-6). */
  ridge?: number;
  /** Tuned: Adam steps (default 300) and learning rate (default 3e-3). */
  steps?: number;
  learningRate?: number;
  /** Refit even when a cached lens exists. */
  refit?: boolean;
}

export interface FitLensResult {
  kind: 'shortcut' | 'tuned';
  file: string;
  cached: boolean;
  trainTokens: number;
  heldOutTokens: number;
  /** Held-out comparison of the logit lens and the fitted lens. */
  evals: LensEval[];
  /** Tuned lens: held-out mean KL over layers after each evaluation round. */
  curve?: { step: number; kl: number }[];
  elapsedMs: number;
}

export interface CompareLensesParams extends WithProgress {
  modelId: string;
  corpus: CorpusSpec;
  lensDir: string;
  lenses?: LensKind[];
}

export interface CompareLensesResult {
  tokens: number;
  evals: LensEval[];
  elapsedMs: number;
}

export interface TokenScore {
  id: number;
  text: string;
  /** Logit contribution of a unit of the neuron's activation. */
  score: number;
}

export interface NeuronsParams {
  modelId: string;
  layer: number;
  topK?: number;
  /** Keep neurons whose promoted or suppressed tokens contain this text (case-insensitive). */
  query?: string;
  offset?: number;
  limit?: number;
}

export interface NeuronDecoding {
  index: number;
  /** L2 norm of the neuron's output weights. */
  norm: number;
  promoted: TokenScore[];
  suppressed: TokenScore[];
}

/** Whether one of the neuron's promoted or suppressed token texts contains `query` (lower-case, trimmed;
 * empty matches all): the search of decode/neurons and of the neuron list panel. */
export function neuronMatches(n: NeuronDecoding, query: string): boolean {
  return !query || [...n.promoted, ...n.suppressed].some((t) => t.text.toLowerCase().includes(query));
}

export interface NeuronsResult {
  layer: number;
  /** Blocks in the model (the layers one can ask for). */
  numLayers: number;
  /** Neurons in the layer, and how many match the query. */
  total: number;
  matched: number;
  neurons: NeuronDecoding[];
}

export interface ContrastiveParams extends TextInput {
  /** Premature layer (0 = embedding, i = output of block i-1). Default: the candidate with the largest Jensen-Shannon divergence from the final layer. */
  premature?: number;
  /** Adaptive plausibility: keep tokens with p ≥ alpha·max p (default 0.1). */
  alpha?: number;
  topK?: number;
}

export interface ContrastiveResult {
  tokens: TokenSpan[];
  premature: number;
  /** JSD(final ‖ layer) at the last position, per layer (embed … last block). */
  jsd: number[];
  /** Plain next-token distribution, top-k. */
  greedy: TokenScore[];
  /** DoLa: log p_final − log p_premature over plausible tokens, top-k (score = contrast). */
  contrastive: TokenScore[];
}

/** What a decode panel shows: one prompt's layers x tokens grids, a held-out evaluation of lenses
 * (from "Compare Lenses" or a lens fit), or the decoded MLP neurons of a block. */
export type DecodePanelResult = DecodeLayersResult | CompareLensesResult | FitLensResult | NeuronsResult;

export function isNeuronList(r: DecodePanelResult): r is NeuronsResult {
  return Array.isArray((r as { neurons?: unknown }).neurons);
}

export function isLensEvaluation(r: DecodePanelResult): r is CompareLensesResult | FitLensResult {
  return Array.isArray((r as { evals?: unknown }).evals);
}

/** The metrics of a lens evaluation per layer, as a table: a header row, then one row per layer
 * ('embed', 'block 0', …) with KL / top-1 / CE (and R² where fitted) of each lens. Shared by the host's
 * log (Markdown) and the panel's CSV export. */
export function lensEvalTable(evals: LensEval[]): { header: string[]; rows: (string | number)[][] } {
  const metrics = (e: LensEval): (keyof LensLayerEval)[] => (e.layers.some((l) => l.r2 !== undefined) ? ['kl', 'top1', 'ce', 'r2'] : ['kl', 'top1', 'ce']);
  const header = ['layer', ...evals.flatMap((e) => metrics(e).map((m) => `${e.lens}_${m}`))];
  const rows = (evals[0]?.layers ?? []).map((_, i) => [i === 0 ? 'embed' : `block ${i - 1}`, ...evals.flatMap((e) => metrics(e).map((m) => e.layers[i][m] ?? NaN))]);
  return { header, rows };
}

export interface DecodeMethods {
  'decode/layers': { params: DecodeLayersParams; result: DecodeLayersResult };
  'decode/fitLens': { params: FitLensParams; result: FitLensResult };
  'decode/compareLenses': { params: CompareLensesParams; result: CompareLensesResult };
  'decode/neurons': { params: NeuronsParams; result: NeuronsResult };
  'decode/contrastive': { params: ContrastiveParams; result: ContrastiveResult };
}
