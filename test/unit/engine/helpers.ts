// Shared helpers for engine tests: paths to the shared models and numeric comparisons.
import path from 'node:path';
import type { Mat } from '../../../native/engine/api';

/** /work/shared/models, resolved relative to the repo (tests read it, never copy it). */
export const SHARED_MODELS = path.resolve(__dirname, '../../../../shared/models');
export const STORIES = path.join(SHARED_MODELS, 'stories260K');
export const GENAI = path.join(SHARED_MODELS, 'tiny-random-llama-genai-builder-fp16');
export const GQA = path.join(SHARED_MODELS, 'tiny-synthetic-gqa-skiplayernorm-fp16');

export function maxAbsDiff(a: Mat, b: Mat): number {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`shape mismatch ${a.rows}x${a.cols} vs ${b.rows}x${b.cols}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

export function argmaxRow(m: Mat, row: number): number {
  let best = 0;
  for (let j = 1; j < m.cols; j++) if (m.data[row * m.cols + j] > m.data[row * m.cols + best]) best = j;
  return best;
}

export function row(m: Mat, r: number): Float32Array {
  return m.data.slice(r * m.cols, (r + 1) * m.cols);
}

/** Rows stacked vertically. */
export function concatRows(ms: Mat[]): Mat {
  const cols = ms[0].cols;
  const rows = ms.reduce((a, m) => a + m.rows, 0);
  const data = new Float32Array(rows * cols);
  let o = 0;
  for (const m of ms) {
    data.set(m.data, o);
    o += m.data.length;
  }
  return { data, rows, cols };
}

/** Deterministic pseudo-random token ids in [lo, hi). */
export function tokenIds(n: number, hi: number, seed = 1, lo = 3): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo));
  });
}

/**
 * Logits of a model run directly in onnxruntime (no engine): full sequence, empty past, mask of ones.
 * The independent reference for plan tests.
 */
export async function ortLogits(model: import('../../../native/onnx/model').ModelProto, ids: number[]): Promise<Mat> {
  const ort = await import('onnxruntime-node');
  const { encodeModel } = await import('../../../native/onnx/model');
  const session = await ort.InferenceSession.create(encodeModel(model));
  const g = model.graph!;
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  const T = ids.length;
  for (const input of g.input!) {
    const name = input.name!;
    const type = input.type!.tensorType!.elemType;
    const ints = (v: number[]) => (type === 6 ? new ort.Tensor('int32', Int32Array.from(v), [1, v.length]) : new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]));
    if (name === 'input_ids') feeds[name] = ints(ids);
    else if (name === 'attention_mask') feeds[name] = ints(new Array(T).fill(1));
    else if (name === 'position_ids') feeds[name] = ints(ids.map((_, i) => i));
    else {
      const dims = input.type!.tensorType!.shape!.dim!.map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : /past/.test(d.dimParam ?? '') ? 0 : 1));
      feeds[name] = type === 10 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  const out = await session.run(feeds, ['logits']);
  await session.release();
  const t = out.logits;
  const cols = t.dims[t.dims.length - 1];
  const { halfArrayToFloat } = await import('../../../native/onnx/tensor');
  const data = t.type === 'float16' ? halfArrayToFloat(t.data as Uint16Array) : (t.data as Float32Array);
  return { data, rows: t.size / cols, cols };
}
