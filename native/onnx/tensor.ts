// Tensor helpers: ONNX element types, fp16 <-> fp32, TensorProto <-> typed arrays.
import onnxProto from 'onnx-proto';
import { ModelError } from './errors';

const { onnx } = onnxProto;
export const DT = onnx.TensorProto.DataType;

/** ONNX element type -> onnxruntime tensor type name. */
export function ortTypeOf(dataType: number): 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'int8' | 'uint8' | 'float64' {
  switch (dataType) {
    case DT.FLOAT: return 'float32';
    case DT.FLOAT16: return 'float16';
    case DT.INT64: return 'int64';
    case DT.INT32: return 'int32';
    case DT.BOOL: return 'bool';
    case DT.INT8: return 'int8';
    case DT.UINT8: return 'uint8';
    case DT.DOUBLE: return 'float64';
    default: throw new ModelError('UNSUPPORTED_ARCHITECTURE', `unsupported ONNX element type ${dataType}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half (as uint16 bits) -> float32, round-trip exact. */
export function halfToFloat(h: number): number {
  const s = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  let m = h & 0x3ff;
  if (e === 0) {
    if (m === 0) { u32[0] = s; return f32[0]; }
    // subnormal: normalise
    let ee = -1;
    do { ee++; m <<= 1; } while ((m & 0x400) === 0);
    u32[0] = s | ((127 - 15 - ee) << 23) | ((m & 0x3ff) << 13);
    return f32[0];
  }
  if (e === 31) { u32[0] = s | 0x7f800000 | (m << 13); return f32[0]; }
  u32[0] = s | ((e - 15 + 127) << 23) | (m << 13);
  return f32[0];
}

/** float32 -> IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const s = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  let m = x & 0x7fffff;
  if (e === 0xff) return s | 0x7c00 | (m ? 0x200 : 0);
  let he = e - 127 + 15;
  if (he >= 31) return s | 0x7c00;
  if (he <= 0) {
    if (he < -10) return s;
    m |= 0x800000;
    const shift = 14 - he;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (hm & 1))) hm++;
    return s | hm;
  }
  let hm = m >>> 13;
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (hm & 1))) {
    hm++;
    if (hm === 0x400) { hm = 0; he++; if (he >= 31) return s | 0x7c00; }
  }
  return s | (he << 10) | hm;
}

export function halfArrayToFloat(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
  return out;
}

export function floatArrayToHalf(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalf(src[i]);
  return out;
}

/** Float values of a float/float16/double initializer (raw_data or typed fields), as float32. */
export function tensorToFloat32(t: onnxProto.onnx.ITensorProto): Float32Array {
  const n = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  switch (t.dataType) {
    case DT.FLOAT:
      if (raw) return new Float32Array(copyBytes(raw).buffer, 0, n);
      return Float32Array.from(t.floatData ?? []);
    case DT.FLOAT16:
      if (raw) return halfArrayToFloat(new Uint16Array(copyBytes(raw).buffer, 0, n));
      // float16 in int32_data holds the bits
      return halfArrayToFloat(Uint16Array.from(t.int32Data ?? []));
    case DT.DOUBLE:
      if (raw) return Float32Array.from(new Float64Array(copyBytes(raw).buffer, 0, n));
      return Float32Array.from(t.doubleData ?? []);
    default:
      throw new ModelError('UNSUPPORTED_ARCHITECTURE', `initializer ${t.name} is not a float tensor (type ${t.dataType})`);
  }
}

/** Aligned copy of a byte view (protobuf byte fields may be unaligned views into a larger buffer). */
function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/** Build a float TensorProto (fp32 or fp16) from float values. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>, dataType: number = DT.FLOAT): onnxProto.onnx.TensorProto {
  const bytes =
    dataType === DT.FLOAT16
      ? new Uint8Array(floatArrayToHalf(values).buffer)
      : new Uint8Array(Float32Array.from(values).buffer);
  return onnx.TensorProto.create({ name, dims, dataType, rawData: bytes });
}

/** Build an int64 TensorProto. */
export function int64Tensor(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.TensorProto {
  const a = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims, dataType: DT.INT64, rawData: new Uint8Array(a.buffer) });
}

/** Number of bytes an initializer occupies. */
export function tensorBytes(t: onnxProto.onnx.ITensorProto): number {
  if (t.rawData?.length) return t.rawData.length;
  return 4 * ((t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0)) + 8 * ((t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0));
}
