// Load and save ONNX models with onnx-proto, including external data (`*.onnx_data`, `*.data`).
import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { ModelError } from './errors';

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export { onnx };

/** Decode ONNX bytes; a file that is not an ONNX model or is cut short gets a clear error. */
export function decodeModel(bytes: Uint8Array, what = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    // An ONNX file starts with ir_version (field 1, varint: byte 0x08) and a small version number.
    const looksOnnx = bytes.length > 2 && bytes[0] === 0x08 && bytes[1] > 0 && bytes[1] < 32;
    const truncated = looksOnnx && /index out of range/i.test(msg);
    throw new ModelError(truncated ? 'TRUNCATED_MODEL' : 'NOT_ONNX', `${what} is ${truncated ? 'truncated' : 'not an ONNX model'} (${msg})`);
  }
  if (!model.graph || !model.graph.node?.length || !model.opsetImport?.length) {
    throw new ModelError('NOT_ONNX', `${what} is not an ONNX model (no graph or opset)`);
  }
  return model;
}

/**
 * Read a model file and inline every external-data initializer (location relative to the model's folder).
 * Locations outside that folder are refused.
 */
export function loadModel(file: string): ModelProto {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ModelError('NOT_ONNX', `cannot read ${file}: ${(e as Error).message}`);
  }
  const model = decodeModel(bytes, file);
  inlineExternalData(model, path.dirname(path.resolve(file)));
  return model;
}

function externalField(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((kv) => kv.key === key)?.value ?? undefined;
}

/** Resolve an external-data location inside `baseDir`, or throw EXTERNAL_DATA_OUTSIDE_FOLDER. */
export function resolveExternalLocation(baseDir: string, location: string): string {
  const base = path.resolve(baseDir);
  if (path.isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location)) {
    throw new ModelError('EXTERNAL_DATA_OUTSIDE_FOLDER', `external data location "${location}" is an absolute path; it must be relative to the model folder`);
  }
  const full = path.resolve(base, location);
  const rel = path.relative(base, full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ModelError('EXTERNAL_DATA_OUTSIDE_FOLDER', `external data location "${location}" points outside the model folder`);
  }
  // a symlink may still lead outside
  if (fs.existsSync(full)) {
    const real = fs.realpathSync(full);
    const realBase = fs.realpathSync(base);
    const r2 = path.relative(realBase, real);
    if (r2.startsWith('..') || path.isAbsolute(r2)) {
      throw new ModelError('EXTERNAL_DATA_OUTSIDE_FOLDER', `external data location "${location}" links outside the model folder`);
    }
  }
  return full;
}

/** Replace external-data references of a model's initializers by their bytes (read from files in baseDir). */
export function inlineExternalData(model: ModelProto, baseDir: string): void {
  const files = new Map<string, Buffer>();
  const tensors = [...(model.graph?.initializer ?? [])];
  for (const n of model.graph?.node ?? []) {
    for (const a of n.attribute ?? []) if (a.t) tensors.push(a.t);
  }
  for (const t of tensors) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = externalField(t, 'location');
    if (!location) throw new ModelError('MISSING_EXTERNAL_DATA', `initializer ${t.name} has external data without a location`);
    const full = resolveExternalLocation(baseDir, location);
    let data = files.get(full);
    if (!data) {
      if (!fs.existsSync(full)) {
        throw new ModelError('MISSING_EXTERNAL_DATA', `external data file "${location}" (needed by initializer ${t.name}) is missing next to the model`);
      }
      data = fs.readFileSync(full);
      files.set(full, data);
    }
    const offset = Number(externalField(t, 'offset') ?? 0);
    const length = externalField(t, 'length');
    const end = length !== undefined ? offset + Number(length) : data.length;
    if (end > data.length) {
      throw new ModelError('TRUNCATED_MODEL', `external data file "${location}" is too short for initializer ${t.name} (needs ${end} bytes, has ${data.length})`);
    }
    t.rawData = data.subarray(offset, end);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
}

/** Serialise a model to bytes (all weights inline). */
export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
