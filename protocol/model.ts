// Model-level types: layer map, tap names, execution plans, model info.
// Shared by the extension host (src/), the sidecar (native/) and the webview (webview/).

/** Stable names for every readable/writable place in a model (TransformerLens-style hook points). */
export type TapName =
  | 'embed'
  | `blocks.${number}.resid_pre`
  | `blocks.${number}.attn_out`
  | `blocks.${number}.resid_mid`
  | `blocks.${number}.mlp_out`
  | `blocks.${number}.resid_post`
  | 'final_norm'
  | 'logits';

export type GraphForm = 'pytorch' | 'genai-builder' | 'contrib-gqa' | 'gpt2-fused';
export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';

export interface BlockMap {
  index: number;
  /** Tensor names in the (canonicalised) graph. */
  residIn: string;
  residMid?: string;
  residOut: string;
  attnOut?: string;
  mlpOut?: string;
  /** True when attention and MLP are separate branches that can be skipped one at a time. */
  sublayersSeparable: boolean;
}

export interface TapInfo {
  name: TapName;
  available: boolean;
  /** Why a tap is not available in this graph form. */
  reason?: string;
}

export interface LayerMap {
  graphForm: GraphForm;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
  dtype: 'float32' | 'float16';
  inputIdsType: 'int32' | 'int64';
  hasKvCache: boolean;
  hasPositionIds: boolean;
  embedOutput: string;
  finalNormOutput: string;
  logitsOutput: string;
  blocks: BlockMap[];
  taps: TapInfo[];
}

/** One slot of a plan: which block runs, with which sublayers. */
export interface PlanSlot {
  layer: number;
  attn?: boolean; // default true
  mlp?: boolean; // default true
}

/** Write a vector into the residual stream (patching). Positions are token indices of the current run. */
export interface PlanPatch {
  /** Residual taps only: 'embed', 'blocks.L.resid_pre|resid_mid|resid_post'. */
  tap: TapName;
  position: number;
  vector: number[];
}

/** What runs. Plans are data: they serialise to JSON and can be saved and re-run. */
export interface ExecutionPlan {
  name?: string;
  /** Ordered blocks. The identity plan is [{layer:0},…,{layer:N-1}]. */
  slots: PlanSlot[];
  /** Exit after this slot index (inclusive) and apply final norm + head. */
  exitAfter?: number;
  patches?: PlanPatch[];
}

export function identityPlan(numLayers: number): ExecutionPlan {
  return { name: 'identity', slots: Array.from({ length: numLayers }, (_, layer) => ({ layer })) };
}

export function isIdentityPlan(plan: ExecutionPlan | undefined, numLayers: number): boolean {
  if (!plan) return true;
  if (plan.slots.length !== numLayers || (plan.patches?.length ?? 0) > 0) return false;
  if (plan.exitAfter !== undefined && plan.exitAfter !== numLayers - 1) return false;
  return plan.slots.every((s, i) => s.layer === i && s.attn !== false && s.mlp !== false);
}

export interface ModelConfigSummary {
  architecture?: string;
  modelType?: string;
  maxPositionEmbeddings?: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  hasChatTemplate: boolean;
}

export interface ModelInfo {
  id: string;
  name: string;
  path: string;
  onnxFile: string;
  sizeBytes: number;
  provider: ExecutionProviderName;
  /** Set when a requested provider fell back to CPU: says why. */
  providerNote?: string;
  layerMap: LayerMap;
  config: ModelConfigSummary;
  contextLength?: number;
}

export interface TokenSpan {
  id: number;
  /** Token text as displayed (whitespace made visible is the UI's job). */
  text: string;
  /** Character offsets in the source text, [start, end). Special tokens have start === end. */
  start: number;
  end: number;
}
