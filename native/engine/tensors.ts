// Conversions between onnxruntime tensors (fp32 or fp16, [1, T, d]) and fp32 Mats, and small tensor ops.
import * as ort from 'onnxruntime-node';
import type { Mat } from './api';
import { floatArrayToHalf, halfArrayToFloat } from '../onnx/tensor';

export type FloatDType = 'float32' | 'float16';

/** Rows x cols view of a [.., T, d] float tensor as fp32 (zero-copy for fp32). */
export function tensorToMat(t: ort.Tensor): Mat {
  const dims = t.dims;
  const cols = dims[dims.length - 1];
  const rows = cols === 0 ? 0 : t.size / cols;
  const data = t.type === 'float16' ? halfArrayToFloat(t.data as Uint16Array) : (t.data as Float32Array);
  return { data, rows, cols };
}

/** A tensor of the model's float type from a Mat (default shape [1, rows, cols]). */
export function matToTensor(m: Mat, dtype: FloatDType, dims: readonly number[] = [1, m.rows, m.cols]): ort.Tensor {
  if (m.data.length !== m.rows * m.cols) throw new Error(`Mat data length ${m.data.length} does not match ${m.rows}x${m.cols}`);
  return dtype === 'float16' ? new ort.Tensor('float16', floatArrayToHalf(m.data), dims) : new ort.Tensor('float32', m.data, dims);
}

/** Copy of rows [start, end) of a Mat. */
export function sliceRows(m: Mat, start: number, end = m.rows): Mat {
  return { data: m.data.slice(start * m.cols, end * m.cols), rows: end - start, cols: m.cols };
}

/** Rows [start, end) along axis `axis` of a tensor (copy). */
export function sliceAxis(t: ort.Tensor, axis: number, start: number, end: number): ort.Tensor {
  const dims = [...t.dims];
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const len = dims[axis];
  const src = t.data as unknown as { subarray(a: number, b: number): ArrayLike<number> } & ArrayLike<number>;
  const n = end - start;
  const Ctor = (t.data as object).constructor as new (n: number) => { set(a: ArrayLike<number>, o: number): void } & ArrayLike<number>;
  const out = new Ctor(outer * n * inner);
  for (let o = 0; o < outer; o++) out.set(src.subarray((o * len + start) * inner, (o * len + end) * inner), o * n * inner);
  dims[axis] = n;
  return new ort.Tensor(t.type as 'float32', out as unknown as Float32Array, dims);
}

/** A zero-filled tensor of a given ONNX element-type name. */
export function zeros(type: string, dims: number[]): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case 'float16': return new ort.Tensor('float16', new Uint16Array(n), dims);
    case 'int64': return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32': return new ort.Tensor('int32', new Int32Array(n), dims);
    default: return new ort.Tensor('float32', new Float32Array(n), dims);
  }
}

/** An integer tensor (int32 or int64) with the given values. */
export function intTensor(type: 'int32' | 'int64', values: ArrayLike<number>, dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  const a = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]);
  return new ort.Tensor('int64', a, dims);
}
