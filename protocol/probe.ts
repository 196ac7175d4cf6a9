// Probe pillar: request/response types for the sidecar and the results the probe panel renders.
// Results are reduced: numbers per layer (and per layer x token for a readout), never raw activations.
import type { TextInput } from './core';
import type { TokenSpan } from './model';
import type { WithProgress } from './rpc';

export type ProbeDatasetFormat = 'csv' | 'tsv' | 'jsonl' | 'json';
/** How one example's token states become one vector: last token, mean over tokens, or mean over a marked span. */
export type ProbePooling = 'last' | 'mean' | 'span';
export type ProbeCacheDtype = 'float32' | 'float16';

/** A labelled data set on disk and which of its columns to use. */
export interface ProbeDatasetSpec {
  path: string;
  /** From the file extension when absent. */
  format?: ProbeDatasetFormat;
  textColumn: string;
  labelColumn: string;
  /** Examples sharing a group never straddle a train/test split (grouped k-fold). */
  groupColumn?: string;
  /** Character span [start, end) in the text: a JSON array [s, e] or the string "s:e". Needed for pooling 'span'. */
  spanColumn?: string;
  /** Skip malformed rows (listed in the result). Without it, any malformed row fails the request with BAD_DATASET. */
  skipMalformed?: boolean;
}

/** A row that could not be used, with its 1-based line number in the file. */
export interface MalformedRow {
  line: number;
  reason: string;
}

export interface InspectDatasetParams {
  path: string;
  format?: ProbeDatasetFormat;
}

export interface InspectDatasetResult {
  format: ProbeDatasetFormat;
  columns: string[];
  rows: number;
  /** First rows, for the column picker. */
  preview: Record<string, string>[];
}

export interface ProbeTrainParams extends WithProgress {
  modelId: string;
  dataset: ProbeDatasetSpec;
  pooling: ProbePooling;
  /** Outer cross-validation folds (default 5). */
  folds?: number;
  seed?: number;
  /** Folder for the activation cache (one sub-folder per model + data set + options). */
  cacheDir: string;
  cacheDtype?: ProbeCacheDtype;
  batchSize?: number;
  /** Write the trained probes (all layers) to this file, to apply later with probe/readout. */
  saveTo?: string;
}

/** Mean over folds with a 95% t-interval (clipped to [0, 1]). */
export interface FoldInterval {
  mean: number;
  lo: number;
  hi: number;
}

export interface ProbeLayerResult {
  /** 'embed' or 'blocks.L.resid_post'. */
  name: string;
  accuracy: FoldInterval;
  macroF1: FoldInterval;
  /** Difference-of-means (mass-mean) probe: nearest class mean in standardised space. */
  massMeanAccuracy: FoldInterval;
  /**
   * The same logistic probe on the control task (Hewitt & Liang): one random label per type, with the
   * task's label distribution; the type is the span's text for span pooling, else the whole text.
   */
  controlAccuracy: FoldInterval;
  /** accuracy − control accuracy. */
  selectivity: number;
  /** L2 strength chosen by inner cross-validation (median over outer folds). */
  lambda: number;
  /** Summed over test folds: confusion[true][predicted]. */
  confusion: number[][];
}

/** Per-layer representation metrics of the data set's token states. */
export interface RepresentationMetrics {
  /** Matrix-based (von Neumann) entropy of each prompt's token Gram matrix, normalised to [0, 1] by log T; mean over (up to about 128 evenly strided) prompts. */
  promptEntropy: number[];
  /** Mean turning angle (radians) of the token trajectory h_t → h_{t+1}; mean over prompts. */
  curvature: number[];
  /** Linear CKA between the layers' pooled features, [layer][layer]. */
  cka: number[][];
}

export interface ProbeRunResult {
  modelName: string;
  datasetName: string;
  datasetHash: string;
  pooling: ProbePooling;
  labels: string[];
  /** Examples per label. */
  counts: number[];
  examples: number;
  folds: number;
  grouped: boolean;
  /** Index 0 is the embedding; index L+1 is the output of block L. */
  layers: ProbeLayerResult[];
  bestLayer: number;
  /** First layer whose mean accuracy reaches 90% of the best layer's. */
  conceptDepth: number;
  /** Predict the training folds' majority class. */
  majority: FoldInterval;
  /** The logistic probe on pooled random token embeddings of the same width (lexical floor). */
  randomFeatures: FoldInterval;
  representation: RepresentationMetrics;
  skipped: MalformedRow[];
  extraction: { cached: boolean; resumedChunks: number; examplesPerSecond: number; ms: number };
  fitMs: number;
  /** Where the trained probes were written. */
  probeFile?: string;
}

export interface ProbeReadoutParams extends TextInput, WithProgress {
  /** A probe file written by probe/train. */
  probeFile: string;
}

export interface ProbeReadoutResult {
  tokens: TokenSpan[];
  labels: string[];
  layerNames: string[];
  /** Probability of each class, [layer][token][class]. */
  probs: number[][][];
  probe: { datasetName: string; pooling: ProbePooling; bestLayer: number; modelName: string; accuracy: number[] };
}

/**
 * The zero-shot baseline: the model itself, asked to continue each example's text, scored by the
 * next-token probabilities of one word per label (e.g. female → "she", male → "he"); the predicted
 * label is the word it finds most likely. No training, so no folds.
 */
export interface ZeroShotParams extends WithProgress {
  modelId: string;
  dataset: ProbeDatasetSpec;
  /** Label -> the word that would follow the text for that label (its first token is scored). */
  words: Record<string, string>;
}

export interface ZeroShotResult {
  words: Record<string, string>;
  /** The token scored for each label (the first token of " word" after the text). */
  tokens: Record<string, { id: number; text: string }>;
  examples: number;
  accuracy: number;
  /** Mean probability of the true label's word after the text. */
  meanTrueProb: number;
  perLabel: { label: string; examples: number; accuracy: number }[];
}

/** What the probe panel shows: a training run (curves; more runs can be overlaid) or a readout (heatmap). */
export type ProbePanelResult = ProbeRunResult | ProbeReadoutResult;

export function isProbeReadout(r: ProbePanelResult): r is ProbeReadoutResult {
  return Array.isArray((r as ProbeReadoutResult).probs);
}

export interface ProbeMethods {
  'probe/inspectDataset': { params: InspectDatasetParams; result: InspectDatasetResult };
  'probe/train': { params: ProbeTrainParams; result: ProbeRunResult };
  'probe/readout': { params: ProbeReadoutParams; result: ProbeReadoutResult };
  'probe/zeroShot': { params: ZeroShotParams; result: ZeroShotResult };
}
