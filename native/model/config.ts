// A model's configuration, read from config.json (Hugging Face) or genai_config.json (onnxruntime-genai),
// with generation_config.json and tokenizer_config.json filling in token ids and the context length.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelConfigSummary } from '../../protocol';
import { ModelError } from '../onnx/errors';
import type { ModelFiles } from './files';

/** What the loader needs from a model's config files. Sizes are checked against the graph. */
export interface ModelConfig {
  /** The file the sizes came from. */
  source: 'config.json' | 'genai_config.json';
  architectures: string[];
  modelType?: string;
  isEncoderDecoder: boolean;
  numLayers?: number;
  hiddenSize?: number;
  vocabSize?: number;
  numHeads?: number;
  numKvHeads?: number;
  maxPositionEmbeddings?: number;
  /** Longest sequence the model accepts, in tokens. */
  contextLength?: number;
  bosTokenId?: number;
  eosTokenId?: number | number[];
}

type Json = Record<string, unknown>;

/** Parse a JSON file into an object, or throw a ModelError with `code` naming the file. */
export function readJsonObject(file: string, code: 'MISSING_CONFIG' | 'MISSING_TOKENIZER'): Json {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelError(code, `${path.basename(file)} is not valid JSON (${(e as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelError(code, `${path.basename(file)} does not hold a JSON object`);
  }
  return value as Json;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const ids = (v: unknown): number | number[] | undefined =>
  num(v) ?? (Array.isArray(v) && v.length > 0 && v.every((x) => num(x) !== undefined) ? (v as number[]) : undefined);

/** Read the config files of a model; at least one of config.json and genai_config.json must exist. */
export function readModelConfig(files: ModelFiles): ModelConfig {
  const generation = files.generationConfig ? readJsonObject(files.generationConfig, 'MISSING_CONFIG') : {};
  const tokenizerConfig = files.tokenizerConfig ? readJsonObject(files.tokenizerConfig, 'MISSING_TOKENIZER') : {};
  // Tokenizers without a limit store a huge sentinel in model_max_length.
  const tokenizerMax = num(tokenizerConfig.model_max_length);
  const tokenizerContext = tokenizerMax !== undefined && tokenizerMax < 1e7 ? tokenizerMax : undefined;

  if (files.config) {
    const c = readJsonObject(files.config, 'MISSING_CONFIG');
    // Some multimodal/nested configs keep the decoder's sizes under text_config.
    const t = (c.text_config && typeof c.text_config === 'object' ? { ...c, ...(c.text_config as Json) } : c) as Json;
    const maxPos = num(t.max_position_embeddings) ?? num(t.n_positions) ?? num(t.n_ctx);
    return {
      source: 'config.json',
      architectures: Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === 'string') : [],
      modelType: typeof c.model_type === 'string' ? c.model_type : undefined,
      isEncoderDecoder: c.is_encoder_decoder === true,
      numLayers: num(t.num_hidden_layers) ?? num(t.n_layer) ?? num(t.num_layers),
      hiddenSize: num(t.hidden_size) ?? num(t.n_embd) ?? num(t.d_model),
      vocabSize: num(t.vocab_size),
      numHeads: num(t.num_attention_heads) ?? num(t.n_head),
      numKvHeads: num(t.num_key_value_heads),
      maxPositionEmbeddings: maxPos,
      contextLength: maxPos ?? tokenizerContext,
      bosTokenId: num(generation.bos_token_id) ?? num(t.bos_token_id),
      eosTokenId: ids(generation.eos_token_id) ?? ids(t.eos_token_id),
    };
  }
  if (files.genaiConfig) {
    const g = readJsonObject(files.genaiConfig, 'MISSING_CONFIG');
    const m = (g.model ?? {}) as Json;
    const d = (m.decoder ?? {}) as Json;
    return {
      source: 'genai_config.json',
      architectures: [],
      modelType: typeof m.type === 'string' ? m.type : undefined,
      isEncoderDecoder: false,
      numLayers: num(d.num_hidden_layers),
      hiddenSize: num(d.hidden_size),
      vocabSize: num(m.vocab_size),
      numHeads: num(d.num_attention_heads),
      numKvHeads: num(d.num_key_value_heads),
      contextLength: num(m.context_length) ?? tokenizerContext,
      bosTokenId: num(generation.bos_token_id) ?? num(m.bos_token_id),
      eosTokenId: ids(generation.eos_token_id) ?? ids(m.eos_token_id),
    };
  }
  throw new ModelError('MISSING_CONFIG', `no config.json (or genai_config.json) in ${files.folder}`);
}

/** The part of a config the host shows. */
export function summarizeConfig(config: ModelConfig, hasChatTemplate: boolean): ModelConfigSummary {
  return {
    architecture: config.architectures[0],
    modelType: config.modelType,
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    bosTokenId: config.bosTokenId,
    eosTokenId: config.eosTokenId,
    hasChatTemplate,
  };
}
