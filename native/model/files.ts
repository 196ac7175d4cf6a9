// Model folder discovery: which files make up a model, in the Hugging Face / Optimum layout
// (config.json, tokenizer files, onnx/model*.onnx), the onnxruntime-genai layout (genai_config.json +
// model.onnx at top level) or a single .onnx file with its tokenizer beside it.
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../onnx/errors';

/** The files of one model, all absolute paths. Optional files are absent when not found. */
export interface ModelFiles {
  /** The model's folder: external data and tokenizer files are looked up here. */
  folder: string;
  /** The chosen ONNX graph. */
  onnxFile: string;
  /** Every ONNX graph found, by variant name (`model`, `model_fp16`, `decoder`…), for choosing one. */
  variants: Record<string, string>;
  config?: string;
  genaiConfig?: string;
  generationConfig?: string;
  tokenizer?: string;
  tokenizerConfig?: string;
  /** A chat template shipped as its own file (newer HF repositories). */
  chatTemplate?: string;
}

/** Preference when no variant is asked for: full precision first. */
const DEFAULT_VARIANTS = ['model', 'decoder', 'decoder_model_merged', 'decoder_model', 'model_fp16', 'model_quantized', 'model_q4', 'model_int8', 'model_uint8'];

function fileIn(dir: string, name: string): string | undefined {
  const p = path.join(dir, name);
  return fs.existsSync(p) && fs.statSync(p).isFile() ? p : undefined;
}

function onnxFilesIn(dir: string): Record<string, string> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return {};
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.onnx') && fs.statSync(path.join(dir, name)).isFile()) out[name.slice(0, -'.onnx'.length)] = path.join(dir, name);
  }
  return out;
}

function genaiDecoderFile(genaiConfig: string): string | undefined {
  try {
    const cfg = JSON.parse(fs.readFileSync(genaiConfig, 'utf8'));
    const name = cfg?.model?.decoder?.filename;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined; // a broken genai_config.json is reported when the config is read
  }
}

/**
 * Find a model's files from a folder or a single .onnx file. `variant` picks a graph by its base name
 * (`model_fp16`) or file name (`model_fp16.onnx`); by default `model.onnx` (or genai's decoder file).
 */
export function findModelFiles(target: string, variant?: string): ModelFiles {
  const abs = path.resolve(target);
  if (!fs.existsSync(abs)) throw new ModelError('BAD_REQUEST', `model path not found: ${abs}`);
  const isFile = fs.statSync(abs).isFile();
  if (isFile && !abs.endsWith('.onnx')) {
    throw new ModelError('NOT_ONNX', `${abs} is not an .onnx file or a model folder`);
  }
  // A file inside `onnx/` belongs to the folder above it (Optimum layout).
  let folder = isFile ? path.dirname(abs) : abs;
  if (isFile && path.basename(folder) === 'onnx' && !fileIn(folder, 'tokenizer.json') && fileIn(path.dirname(folder), 'tokenizer.json')) {
    folder = path.dirname(folder);
  }
  const genaiConfig = fileIn(folder, 'genai_config.json');
  const variants = { ...onnxFilesIn(path.join(folder, 'onnx')), ...onnxFilesIn(folder) };

  let onnxFile: string | undefined;
  if (isFile) onnxFile = abs;
  else if (variant) {
    const key = variant.replace(/\.onnx$/, '');
    onnxFile = variants[key];
    if (!onnxFile) {
      throw new ModelError('BAD_REQUEST', `no ONNX variant "${variant}" in ${folder}; found: ${Object.keys(variants).join(', ') || 'none'}`);
    }
  } else {
    const genaiFile = genaiConfig && genaiDecoderFile(genaiConfig);
    const named = genaiFile ? fileIn(folder, genaiFile) : undefined;
    onnxFile = named ?? DEFAULT_VARIANTS.map((v) => variants[v]).find(Boolean) ?? Object.values(variants)[0];
  }
  if (!onnxFile) {
    throw new ModelError('NOT_ONNX', `no ONNX model in ${folder} (looked for onnx/model.onnx, model.onnx and other *.onnx files)`);
  }

  return {
    folder,
    onnxFile,
    variants,
    config: fileIn(folder, 'config.json'),
    genaiConfig,
    generationConfig: fileIn(folder, 'generation_config.json'),
    tokenizer: fileIn(folder, 'tokenizer.json'),
    tokenizerConfig: fileIn(folder, 'tokenizer_config.json'),
    chatTemplate: fileIn(folder, 'chat_template.jinja'),
  };
}
