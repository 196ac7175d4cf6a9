// The engine's contract: what analyses (decode / skip / probe), the sidecar and the CLI may use.
// An engine is one loaded model split into stages (prelude/embedding, attention and MLP of each
// block, final norm + head) that run under an ExecutionPlan. Nothing here imports `vscode`.
import type { ExecutionPlan, LayerMap, PlanSlot, TapName } from '../../protocol';

/** Float32 row-major matrix [rows, cols]. */
export interface Mat {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Per-slot key/value cache so a plan can generate token by token. Opaque to callers. */
export interface KvCache {
  /** Number of tokens already in the cache. */
  readonly length: number;
  /** Drop everything after `length` tokens (used by speculative decoding to roll back rejected drafts). */
  truncate(length: number): void;
  /** Independent copy. */
  clone(): KvCache;
}

export interface ForwardOptions {
  plan?: ExecutionPlan;
  /** Residual/sublayer taps to return, each [T, d] for the T tokens of this call. */
  taps?: TapName[];
  /** Incremental decoding: `ids` are the new tokens after what the cache holds. The cache is updated in place. */
  cache?: KvCache;
  /** Which logits to return: all positions (default), only the last, or none (taps only). */
  logits?: 'all' | 'last' | 'none';
  signal?: AbortSignal;
}

export interface ForwardResult {
  /** [T, V] (or [1, V] for 'last'), float32. Absent for logits: 'none'. */
  logits?: Mat;
  taps: Map<TapName, Mat>;
}

/**
 * The state of a run between stages: lets analyses reuse a prefix of blocks across many plans
 * (sweeps) without recomputing it. Obtained from `begin`, advanced with `runSlot`.
 */
export interface StageState {
  /** Residual stream after the last slot run, [T, d]. Callers may read; write only via `withResidual`. */
  readonly residual: Mat;
  /** Number of tokens in this call. */
  readonly tokens: number;
  /** Copy of this state with another residual (patching, or branching a sweep). */
  withResidual(residual: Mat): StageState;
}

export interface SlotOutputs {
  state: StageState;
  /** Present when the slot ran attention / MLP (sublayer taps). */
  attnOut?: Mat;
  residMid?: Mat;
  mlpOut?: Mat;
}

/** Final norm and unembedding, for lenses computed outside the main head (e.g. the ORT lens-head graph). */
export interface HeadWeights {
  norm: { kind: 'rms' | 'layer'; weight: Float32Array; bias?: Float32Array; eps: number };
  /** Unembedding, [V, d] row-major (row v is token v's output embedding). */
  unembed: Mat;
  unembedBias?: Float32Array;
}

export interface Engine {
  readonly layerMap: LayerMap;
  readonly provider: 'cpu' | 'webgpu' | 'cuda';
  /** Set when the requested provider was not used (fell back to CPU): says why. */
  readonly providerNote?: string;

  /** Full forward under a plan (identity when absent). */
  forward(ids: ArrayLike<number>, opts?: ForwardOptions): Promise<ForwardResult>;
  /** The unmodified monolithic ONNX model (reference; also the fast path for the identity plan). */
  forwardMonolithic(ids: ArrayLike<number>, opts?: { cache?: KvCache; signal?: AbortSignal }): Promise<Mat>;

  /** Stage-level primitives (prefix reuse). `cache` must come from `newCache` and is updated in place. */
  begin(ids: ArrayLike<number>, opts?: { cache?: KvCache; cacheSlots?: number }): Promise<StageState>;
  runSlot(state: StageState, slot: PlanSlot, slotIndex: number): Promise<SlotOutputs>;
  /** Final norm + head on a residual [T, d] → logits [T, V]. */
  head(residual: Mat): Promise<Mat>;
  /** Final norm only: [T, d] → [T, d]. */
  finalNorm(residual: Mat): Promise<Mat>;

  /**
   * Batched forward (identity plan or a given plan) over sequences of different lengths, right-padded
   * with a correct attention mask; results are per sequence, unpadded. Used for activation extraction.
   */
  forwardBatch(batch: ArrayLike<number>[], opts?: Omit<ForwardOptions, 'cache'>): Promise<ForwardResult[]>;

  newCache(plan?: ExecutionPlan): KvCache;
  headWeights(): HeadWeights;
  /**
   * What each MLP hidden unit ("neuron") of block `layer` writes into the residual stream:
   * [intermediate, d] (row n = output weights of neuron n). Undefined when the graph hides it.
   */
  mlpOutputWeights(layer: number): Mat | undefined;
  dispose(): Promise<void>;
}
