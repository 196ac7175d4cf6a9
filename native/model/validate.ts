// Checks a model before and after loading it, each failure a ModelError with a stable code: the ONNX file
// and its external data (present, inside the model folder, long enough), the size against memory, the
// architecture (a decoder-only language model: token ids in, logits out) and the config against the graph.
import fs from 'node:fs';
import path from 'node:path';
import type { LayerMap } from '../../protocol';
import { ModelError } from '../onnx/errors';
import { decodeModel, onnx, resolveExternalLocation, type ModelProto, type TensorProto, type ValueInfoProto } from '../onnx/model';
import type { ModelConfig } from './config';

/** What reading a model's files found: its graph (weights not read) and its size on disk. */
export interface ModelFileCheck {
  /** The graph with external data still referenced, not read. */
  model: ModelProto;
  /** The .onnx file plus every external data file it uses, in bytes. */
  sizeBytes: number;
}

const size = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(2)} MiB`);

function refuseIfTooLarge(sizeBytes: number, limitBytes: number, what: string): void {
  if (sizeBytes > limitBytes) {
    throw new ModelError('MODEL_TOO_LARGE', `${what} takes ${size(sizeBytes)} on disk, more than the ${size(limitBytes)} of memory available; it cannot be loaded`);
  }
}

function externalField(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((kv) => kv.key === key)?.value ?? undefined;
}

/**
 * Read and decode an .onnx file without its external data, check every external data reference
 * (inside the folder, present, long enough) and refuse the model when its files exceed `memoryLimitBytes`.
 */
export function checkModelFiles(onnxFile: string, memoryLimitBytes: number): ModelFileCheck {
  const name = path.basename(onnxFile);
  let size: number;
  try {
    size = fs.statSync(onnxFile).size;
  } catch (e) {
    throw new ModelError('NOT_ONNX', `cannot read ${onnxFile}: ${(e as Error).message}`);
  }
  refuseIfTooLarge(size, memoryLimitBytes, name);
  const model = decodeModel(fs.readFileSync(onnxFile), name);

  const baseDir = path.dirname(onnxFile);
  const needed = new Map<string, { location: string; end: number; tensor: string }>();
  const tensors = [...(model.graph?.initializer ?? [])];
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) tensors.push(a.t);
  for (const t of tensors) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = externalField(t, 'location');
    if (!location) throw new ModelError('MISSING_EXTERNAL_DATA', `initializer ${t.name} has external data without a location`);
    const full = resolveExternalLocation(baseDir, location);
    const length = externalField(t, 'length');
    const end = length === undefined ? 0 : Number(externalField(t, 'offset') ?? 0) + Number(length);
    const prev = needed.get(full);
    if (!prev || end > prev.end) needed.set(full, { location, end, tensor: t.name ?? '?' });
  }
  for (const [full, { location, end, tensor }] of needed) {
    if (!fs.existsSync(full)) {
      throw new ModelError('MISSING_EXTERNAL_DATA', `external data file "${location}" (needed by initializer ${tensor}) is missing next to ${name}`);
    }
    const have = fs.statSync(full).size;
    if (end > have) {
      throw new ModelError('TRUNCATED_MODEL', `external data file "${location}" is truncated: initializer ${tensor} needs ${end} bytes, the file has ${have}`);
    }
    size += have;
  }
  refuseIfTooLarge(size, memoryLimitBytes, `${name} with its external data`);
  return { model, sizeBytes: size };
}

function dims(v: ValueInfoProto): Array<number | string> {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : (d.dimParam ?? '?')));
}

const INT_TYPES = new Set<number>([onnx.TensorProto.DataType.INT32, onnx.TensorProto.DataType.INT64]);
const CAUSAL_LM = /(ForCausalLM|LMHeadModel)$/;
const NEEDS = 'layerlens needs a decoder-only language model (token ids in, next-token logits out)';

/** Refuse encoder-only, encoder-decoder and vision models, by their config and by the graph's inputs and outputs. */
export function checkArchitecture(model: ModelProto, config: ModelConfig): void {
  const fail = (why: string): never => {
    throw new ModelError('UNSUPPORTED_ARCHITECTURE', `${why}; ${NEEDS}`);
  };
  if (config.isEncoderDecoder) fail(`config.json describes an encoder-decoder model (${config.architectures[0] ?? config.modelType ?? '?'})`);
  if (config.architectures.length > 0 && !config.architectures.some((a) => CAUSAL_LM.test(a))) {
    fail(`config.json architecture ${config.architectures.join(', ')} is not a causal language model`);
  }
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !inits.has(i.name));
  const outputs = g.output ?? [];
  const list = (vs: ValueInfoProto[]) => vs.map((v) => `${v.name}[${dims(v).join(',')}]`).join(', ');

  const ids = inputs.find((i) => i.name === 'input_ids') ?? inputs.find((i) => INT_TYPES.has(i.type?.tensorType?.elemType ?? -1) && dims(i).length === 2);
  if (!ids) {
    const image = inputs.find((i) => i.name === 'pixel_values' || dims(i).length === 4);
    fail(image ? `the graph takes an image (${image.name}), it is a vision model` : `the graph has no token-id input (inputs: ${list(inputs)})`);
  }
  const logits = outputs.find((o) => o.name === 'logits');
  if (!logits || dims(logits).length !== 3) {
    const hidden = outputs.find((o) => /last_hidden_state|pooler_output|hidden_states/.test(o.name ?? ''));
    fail(hidden ? `the graph outputs ${hidden.name} and no logits: an encoder-only model` : `the graph has no logits output [batch, sequence, vocab] (outputs: ${list(outputs)})`);
  }
  const hasCache = inputs.some((i) => /past/.test(i.name ?? ''));
  if (inputs.some((i) => i.name === 'token_type_ids') && !hasCache) fail('the graph takes token_type_ids and no past key/values: an encoder-only (BERT-like) model');
}

/** Vocabulary size of the graph's logits output when it is a fixed dimension. */
export function graphVocabSize(model: ModelProto): number | undefined {
  const logits = (model.graph?.output ?? []).find((o) => o.name === 'logits');
  const v = logits ? dims(logits).at(-1) : undefined;
  return typeof v === 'number' ? v : undefined;
}

/** Compare config.json (or genai_config.json) and the tokenizer with what the graph really has. */
export function checkConfigAgainstGraph(config: ModelConfig, layerMap: LayerMap, tokenizerVocab: number): void {
  const problems: string[] = [];
  const cmp = (what: string, configured: number | undefined, found: number) => {
    if (configured !== undefined && configured !== found) problems.push(`${what} is ${configured} in ${config.source} but the graph has ${found}`);
  };
  cmp('num_hidden_layers', config.numLayers, layerMap.numLayers);
  cmp('hidden_size', config.hiddenSize, layerMap.hiddenSize);
  cmp('vocab_size', config.vocabSize, layerMap.vocabSize);
  if (tokenizerVocab > layerMap.vocabSize) problems.push(`the tokenizer has ${tokenizerVocab} tokens but the model's head only ${layerMap.vocabSize}`);
  if (problems.length) throw new ModelError('CONFIG_MISMATCH', `the model's config contradicts its graph: ${problems.join('; ')}`);
}
