// Helpers for model-loader, sidecar and CLI tests: the shared models (read in place, never copied into the
// repo), the reference outputs, and temporary model folders assembled from them for bad-input cases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const REPO = path.resolve(__dirname, '../../..');
export const SHARED_MODELS = path.resolve(REPO, '../shared/models');
export const STORIES = path.join(SHARED_MODELS, 'stories260K');
export const GENAI = path.join(SHARED_MODELS, 'tiny-random-llama-genai-builder-fp16');
export const GQA = path.join(SHARED_MODELS, 'tiny-synthetic-gqa-skiplayernorm-fp16');

export interface ExpectedCase {
  prompt: string;
  prompt_ids: number[];
  greedy_new_token_ids: number[];
  new_text: string;
  last_prompt_position_top5: Array<{ id: number; token: string; logit: number }>;
}

/** stories260K/expected.json: reference outputs of an independent numpy implementation. */
export const EXPECTED: { cases: ExpectedCase[]; bos_only: { prompt_ids: number[]; greedy_new_token_ids: number[] } } = JSON.parse(
  fs.readFileSync(path.join(STORIES, 'expected.json'), 'utf8'),
);

let tempRoot: string | undefined;

/** A fresh temporary folder; all of them are removed when the process exits. */
export function tempDir(): string {
  if (!tempRoot) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-test-'));
    process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
    tempRoot = root;
  }
  return fs.mkdtempSync(path.join(tempRoot, 'm-'));
}

/**
 * A model folder in a temporary directory: files given as contents, or as `{ link }` (a symlink to a shared
 * file) or `{ copy, bytes? }` (a copy of a shared file, cut to `bytes`).
 */
export function modelDir(files: Record<string, string | Uint8Array | { link: string } | { copy: string; bytes?: number }>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (typeof content === 'string' || content instanceof Uint8Array) fs.writeFileSync(p, content);
    else if ('link' in content) fs.symlinkSync(content.link, p);
    else {
      const data = fs.readFileSync(content.copy);
      fs.writeFileSync(p, content.bytes === undefined ? data : data.subarray(0, content.bytes));
    }
  }
  return dir;
}

/** The stories260K files other than the graph, as symlinks for modelDir. */
export function storiesSideFiles(): Record<string, { link: string }> {
  const out: Record<string, { link: string }> = {};
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) out[f] = { link: path.join(STORIES, f) };
  return out;
}

type Dim = number | string;
const valueInfo = (name: string, elemType: number, dims: Dim[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** Encode a one-graph model (opset 17) built from plain objects. */
export function buildModel(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'layerlens-test', graph }).finish();
}

const F = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;

/** A tiny BERT-like encoder: token ids (+ token_type_ids) in, last_hidden_state out. */
export function encoderOnlyModel(): Uint8Array {
  return buildModel({
    name: 'encoder',
    node: [{ opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['last_hidden_state'] }],
    initializer: [{ name: 'embeddings', dataType: F, dims: [16, 4], floatData: Array.from({ length: 64 }, (_, i) => i / 64) }],
    input: [valueInfo('input_ids', I64, ['batch', 'seq']), valueInfo('attention_mask', I64, ['batch', 'seq']), valueInfo('token_type_ids', I64, ['batch', 'seq'])],
    output: [valueInfo('last_hidden_state', F, ['batch', 'seq', 4])],
  });
}

/** A tiny image classifier: pixel_values in, class logits out. */
export function visionModel(): Uint8Array {
  return buildModel({
    name: 'vision',
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['logits'] },
    ],
    input: [valueInfo('pixel_values', F, ['batch', 3, 8, 8])],
    output: [valueInfo('logits', F, ['batch', 3])],
  });
}

/** A graph whose only weight lives in external data at `location` (relative to the model file). */
export function externalDataModel(location: string, length = 64): Uint8Array {
  return buildModel({
    name: 'external',
    node: [{ opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['logits'] }],
    initializer: [
      {
        name: 'embeddings',
        dataType: F,
        dims: [4, 4],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: '0' },
          { key: 'length', value: String(length) },
        ],
      },
    ],
    input: [valueInfo('input_ids', I64, ['batch', 'seq'])],
    output: [valueInfo('logits', F, ['batch', 'seq', 4])],
  });
}

/** GPT-2's byte -> printable character table (byte-level BPE vocabularies are written in it). */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

/**
 * A small GPT-2-style byte-level BPE tokenizer.json (the family of GPT-2, Llama 3, Qwen): 256 byte
 * tokens, a few merges (" the", " cat", "he") and <|endoftext|>.
 */
export function byteLevelTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((s, byte) => (vocab[s] = byte));
  const merges = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['Ġ', 'c'], ['Ġc', 'a'], ['Ġca', 't']];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const eos = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = eos;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: [{ id: eos, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: merges.map((m) => m.join(' ')) },
  };
}
