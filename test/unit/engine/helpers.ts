// Shared helpers for engine tests: paths to the shared models and numeric comparisons.
import path from 'node:path';
import type { Mat } from '../../../native/engine/api';
import { plainLogits } from '../../../native/fixtures/reference';
import { encodeModel, type ModelProto } from '../../../native/onnx/model';

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

/** Logits of a model run directly in onnxruntime (no engine): the independent reference for plan tests. */
export function ortLogits(model: ModelProto, ids: number[]): Promise<Mat> {
  return plainLogits(encodeModel(model), ids);
}
