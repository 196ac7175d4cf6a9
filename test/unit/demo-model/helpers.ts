// Helpers for the demo-model checks: paths of the shipped model and its data, the tokenizer loaded with
// @huggingface/tokenizers, and a plain onnxruntime-node KV-cache decoder written directly against the
// Optimum input/output names (independent of the project's engine).
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

export const REPO = path.resolve(__dirname, '../../..');
export const DEMO_MODEL = path.join(REPO, 'demo/model');
export const DEMO_DATA = path.join(REPO, 'demo/data');
export const DEMO_WORKSPACE = path.join(REPO, 'demo/workspace');
export const ONNX_FILE = path.join(DEMO_MODEL, 'onnx/model.onnx');

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export interface TaskCase {
  task: 'pronoun' | 'colour' | 'count';
  prompt: string;
  answer: string;
}

export interface ModelConfig {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  bos_token_id: number;
  eos_token_id: number;
}

export const CONFIG = readJson<ModelConfig>(path.join(DEMO_MODEL, 'config.json'));

export function loadTokenizer(): Tokenizer {
  return new Tokenizer(readJson(path.join(DEMO_MODEL, 'tokenizer.json')), readJson(path.join(DEMO_MODEL, 'tokenizer_config.json')));
}

let session: Promise<ort.InferenceSession> | undefined;

/** One shared CPU session per test process (single thread: the CI machine is small and shared). */
export function demoSession(): Promise<ort.InferenceSession> {
  session ??= ort.InferenceSession.create(ONNX_FILE, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  return session;
}

const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);

/** KV cache of batch 1 as onnxruntime tensors, keyed by the past_key_values input names. */
export type Past = Record<string, ort.Tensor>;

export function emptyPast(): Past {
  const past: Past = {};
  for (let i = 0; i < CONFIG.num_hidden_layers; i++) {
    for (const kind of ['key', 'value']) {
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, CONFIG.num_key_value_heads, 0, CONFIG.head_dim]);
    }
  }
  return past;
}

export interface StepResult {
  /** [ids.length, vocab] row-major. */
  logits: Float32Array;
  past: Past;
}

/** Run `ids` after the `past` tokens (empty past: a full prefill). Returns all positions' logits and the new cache. */
export async function step(s: ort.InferenceSession, ids: number[], past: Past = emptyPast()): Promise<StepResult> {
  const pastLen = past['past_key_values.0.key'].dims[2];
  const total = pastLen + ids.length;
  const out = await s.run({
    input_ids: int64(ids),
    attention_mask: int64(new Array<number>(total).fill(1)),
    position_ids: int64(ids.map((_, i) => pastLen + i)),
    ...past,
  });
  const next: Past = {};
  for (const name of Object.keys(past)) next[name] = out[name.replace('past_key_values', 'present')];
  return { logits: out.logits.data as Float32Array, past: next };
}

export function argmax(row: Float32Array | number[], from = 0, to = row.length): number {
  let best = from;
  for (let i = from; i < to; i++) if (row[i] > row[best]) best = i;
  return best - from;
}

/** Greedy continuation of `ids` with the KV cache: `n` new token ids (stops after EOS). */
export async function greedy(s: ort.InferenceSession, ids: number[], n: number): Promise<number[]> {
  const V = CONFIG.vocab_size;
  let { logits, past } = await step(s, ids);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const rows = logits.length / V;
    const next = argmax(logits, (rows - 1) * V, rows * V);
    out.push(next);
    if (next === CONFIG.eos_token_id || k === n - 1) break;
    ({ logits, past } = await step(s, [next], past));
  }
  return out;
}

/** The first word of a greedy continuation of `prompt` (decoded text, letters only). */
export async function nextWord(s: ort.InferenceSession, tok: Tokenizer, prompt: string): Promise<string> {
  const ids = tok.encode(prompt).ids;
  const text = tok.decode(await greedy(s, ids, 2), { skip_special_tokens: true });
  return /^\s*([A-Za-z]*)/.exec(text)![1];
}
