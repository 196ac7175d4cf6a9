// Core sidecar requests: lifecycle, model loading, tokenisation, plain runs and generation.
import type { ExecutionPlan, ExecutionProviderName, ModelInfo, TokenSpan } from './model';
import type { WithProgress } from './rpc';

/** Input text for any analysis: raw text, or token ids. */
export interface TextInput {
  modelId: string;
  text?: string;
  ids?: number[];
  /** Wrap the text in the model's chat template as a user turn. */
  chatTemplate?: boolean;
}

export interface TopToken {
  id: number;
  text: string;
  prob: number;
  logit: number;
}

export interface RunParams extends TextInput {
  plan?: ExecutionPlan;
  topK?: number;
}

export interface RunResult {
  tokens: TokenSpan[];
  /** Next-token top-k after the last position. */
  next: TopToken[];
  provider: ExecutionProviderName;
  elapsedMs: number;
}

export interface GenerateParams extends TextInput, WithProgress {
  plan?: ExecutionPlan;
  maxNewTokens?: number;
  /** Greedy when 0 or absent. */
  temperature?: number;
  /** Seed of the sampler (temperature > 0); the same seed gives the same text. Default 0. */
  seed?: number;
}

/** Progress `partial` of model/generate: the ids generated so far. */
export interface GeneratePartial {
  ids: number[];
}

export interface GenerateResult {
  promptTokens: TokenSpan[];
  /** The new tokens (the end-of-sequence token included when it stopped generation). */
  ids: number[];
  /** The new tokens decoded, special tokens left out. */
  text: string;
  /** Why generation stopped: an end-of-sequence token, maxNewTokens, or the context window. */
  stop: 'eos' | 'maxNewTokens' | 'context';
  elapsedMs: number;
}

export interface SidecarInfo {
  pid: number;
  version: string;
  ortVersion: string;
  providers: ExecutionProviderName[];
}

export interface LoadParams extends WithProgress {
  /** A model folder (HF/Optimum layout) or a single .onnx file with a tokenizer beside it. */
  path: string;
  /** Default 'auto': the best available provider, falling back to CPU (ModelInfo.providerNote says why). */
  provider?: ExecutionProviderName | 'auto';
  /** ONNX variant in the folder by base name (`model_fp16`, `model_quantized`…); default `model`. */
  variant?: string;
}

export interface CoreMethods {
  'sidecar/info': { params: Record<string, never>; result: SidecarInfo };
  'model/load': { params: LoadParams; result: ModelInfo };
  'model/unload': { params: { modelId: string }; result: { ok: true } };
  'model/list': { params: Record<string, never>; result: ModelInfo[] };
  'model/tokenize': { params: TextInput; result: { tokens: TokenSpan[] } };
  'model/run': { params: RunParams; result: RunResult };
  'model/generate': { params: GenerateParams; result: GenerateResult };
}
