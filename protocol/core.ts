// Core sidecar requests: lifecycle, model loading, tokenisation, plain runs and generation.
import type { ExecutionPlan, ExecutionProviderName, ModelInfo, TokenSpan } from './model';

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

export interface GenerateParams extends TextInput {
  plan?: ExecutionPlan;
  maxNewTokens?: number;
  /** Greedy when 0 or absent. */
  temperature?: number;
  seed?: number;
}

export interface GenerateResult {
  promptTokens: TokenSpan[];
  ids: number[];
  text: string;
  elapsedMs: number;
}

export interface SidecarInfo {
  pid: number;
  version: string;
  ortVersion: string;
  providers: ExecutionProviderName[];
}

export interface LoadParams {
  /** A model folder (HF/Optimum layout) or a single .onnx file with a tokenizer beside it. */
  path: string;
  provider?: ExecutionProviderName | 'auto';
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
