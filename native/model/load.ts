// Loading a model: find its files, read its config and tokenizer, check everything that can be checked
// before onnxruntime touches it, create the engine, then check the config against the mapped graph.
import os from 'node:os';
import path from 'node:path';
import { isIdentityPlan, type ExecutionPlan, type ExecutionProviderName, type ModelInfo, type TextInput, type TopToken } from '../../protocol';
import { softmax } from '../analyses/skip/math';
import { createEngine } from '../engine';
import type { Engine, KvCache } from '../engine/api';
import { ModelError } from '../onnx/errors';
import { readModelConfig, summarizeConfig, type ModelConfig } from './config';
import { findModelFiles, type ModelFiles } from './files';
import { ModelTokenizer, type Encoded } from './tokenizer';
import { checkArchitecture, checkConfigAgainstGraph, checkModelFiles, graphVocabSize } from './validate';

export interface LoadOptions {
  /** Id the model is known by in requests. */
  id: string;
  provider?: ExecutionProviderName | 'auto';
  /** ONNX variant by base name (`model_fp16`); default model.onnx. */
  variant?: string;
  /** Refuse models whose files are larger than this (default: total memory, os.totalmem()). */
  memoryLimitBytes?: number;
  /** Called with what loading is doing now. */
  onStep?: (fraction: number, message: string) => void;
}

/** A loaded model: its engine, tokenizer, config and the ModelInfo the host sees. */
export class LoadedModel {
  constructor(
    readonly info: ModelInfo,
    readonly engine: Engine,
    readonly tokenizer: ModelTokenizer,
    readonly config: ModelConfig,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /** The model's folder. */
  get folder(): string {
    return this.info.path;
  }

  /** Longest token sequence the model accepts, when its config says. */
  get contextLength(): number | undefined {
    return this.info.contextLength;
  }

  /** Throw PROMPT_TOO_LONG when `tokens` do not fit the context window. */
  checkContext(tokens: number): void {
    const max = this.contextLength;
    if (max !== undefined && tokens > max) {
      throw new ModelError('PROMPT_TOO_LONG', `the prompt has ${tokens} tokens, more than the model's context window of ${max}`);
    }
  }

  /**
   * Ids and spans of an analysis input (text, or ids checked against the vocabulary), within the context
   * window. Spans of given ids point into their decoded text.
   */
  encode(input: Pick<TextInput, 'text' | 'ids' | 'chatTemplate'>): Encoded {
    let encoded: Encoded;
    if (input.ids !== undefined) {
      if (!Array.isArray(input.ids)) throw new ModelError('BAD_REQUEST', 'ids must be an array of token ids');
      const vocab = this.info.layerMap.vocabSize;
      const bad = input.ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
      if (bad !== undefined) throw new ModelError('BAD_REQUEST', `token id ${bad} is outside the vocabulary [0, ${vocab})`);
      encoded = { ids: [...input.ids], tokens: this.tokenizer.fromIds(input.ids).tokens };
    } else if (typeof input.text === 'string') {
      encoded = this.tokenizer.encode(input.text, { chatTemplate: input.chatTemplate, check: (ids) => this.checkContext(ids.length) });
    } else {
      throw new ModelError('BAD_REQUEST', 'give the input as text or ids');
    }
    if (encoded.ids.length === 0) throw new ModelError('BAD_REQUEST', 'the input has no tokens');
    this.checkContext(encoded.ids.length);
    return encoded;
  }

  /**
   * Logits after the last of `ids` under `plan`: the unmodified graph for the identity plan (one session,
   * several times faster), the engine's stages otherwise. `cache` (from engine.newCache) is updated in place.
   */
  async nextLogits(ids: number[], opts: { plan?: ExecutionPlan; cache?: KvCache; signal?: AbortSignal } = {}): Promise<Float32Array> {
    opts.signal?.throwIfAborted();
    if (opts.plan !== undefined && !Array.isArray(opts.plan?.slots)) throw new ModelError('BAD_REQUEST', 'plan.slots must be an array');
    const logits = isIdentityPlan(opts.plan, this.info.layerMap.numLayers)
      ? await this.engine.forwardMonolithic(ids, { cache: opts.cache, signal: opts.signal })
      : (await this.engine.forward(ids, { plan: opts.plan, cache: opts.cache, logits: 'last', signal: opts.signal })).logits;
    if (!logits) throw new ModelError('INTERNAL', 'the engine returned no logits');
    return logits.data.subarray((logits.rows - 1) * logits.cols, logits.rows * logits.cols);
  }

  /** The k most likely tokens of one row of logits, with their probabilities. */
  topTokens(logits: Float32Array, k: number): TopToken[] {
    const probs = softmax(logits);
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, k);
    return order.map((id) => ({ id, text: this.tokenizer.tokenText(id), prob: probs[id], logit: logits[id] }));
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}

/** Load a model folder (or a single .onnx file with a tokenizer beside it). Throws ModelError on bad input. */
export async function loadModel(target: string, opts: LoadOptions): Promise<LoadedModel> {
  (opts.onStep ?? (() => {}))(0, 'finding model files');
  const files = findModelFiles(target, opts.variant);
  const config = readModelConfig(files);
  const tokenizer = ModelTokenizer.load(files);
  const { info, engine } = await openGraph(files, config, tokenizer, opts);
  return new LoadedModel(info, engine, tokenizer, config);
}

/**
 * What loading a model would give, for a look at its layer map: the same checks and mapping, but a
 * tokenizer is optional (a graph can be inspected before its tokenizer is at hand). Nothing stays loaded.
 */
export async function inspectModel(target: string, opts: LoadOptions): Promise<ModelInfo> {
  const files = findModelFiles(target, opts.variant);
  const config = readModelConfig(files);
  const tokenizer = files.tokenizer ? ModelTokenizer.load(files) : undefined;
  const { info, engine } = await openGraph(files, config, tokenizer, opts);
  await engine.dispose();
  return info;
}

/** Check the graph and its files, create the engine, check the config against the mapped graph. */
async function openGraph(files: ModelFiles, config: ModelConfig, tokenizer: ModelTokenizer | undefined, opts: LoadOptions): Promise<{ info: ModelInfo; engine: Engine }> {
  const step = opts.onStep ?? (() => {});
  step(0.1, `checking ${path.basename(files.onnxFile)}`);
  const { model, sizeBytes } = checkModelFiles(files.onnxFile, opts.memoryLimitBytes ?? os.totalmem());
  checkArchitecture(model, config);
  const graphVocab = graphVocabSize(model);
  if (graphVocab !== undefined && config.vocabSize !== undefined && graphVocab !== config.vocabSize) {
    throw new ModelError('CONFIG_MISMATCH', `vocab_size is ${config.vocabSize} in ${config.source} but the graph's logits have ${graphVocab}`);
  }

  step(0.2, 'mapping layers and creating sessions');
  const engine = await createEngine({ path: files.onnxFile }, { provider: opts.provider ?? 'auto' });
  try {
    checkConfigAgainstGraph(config, engine.layerMap, tokenizer?.vocabSize ?? 0);
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  const variant = path.basename(files.onnxFile, '.onnx');
  const info: ModelInfo = {
    id: opts.id,
    name: path.basename(files.folder) + (variant === 'model' || variant === 'decoder' ? '' : ` (${variant})`),
    path: files.folder,
    onnxFile: files.onnxFile,
    sizeBytes,
    provider: engine.provider,
    providerNote: engine.providerNote,
    layerMap: engine.layerMap,
    config: summarizeConfig(config, tokenizer?.chatTemplate !== undefined),
    contextLength: config.contextLength,
  };
  step(1, 'loaded');
  return { info, engine };
}
