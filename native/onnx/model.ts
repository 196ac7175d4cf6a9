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
 * Read a model file. External-data references (location relative to the model's folder) are checked
 * (inside the folder, file present and long enough); with `deferExternalData` they are left as
 * references to inline later with `inlineExternalData`, otherwise their bytes are read now.
 */
export function loadModel(file: string, opts: { deferExternalData?: boolean } = {}): ModelProto {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ModelError('NOT_ONNX', `cannot read ${file}: ${(e as Error).message}`);
  }
  const model = decodeModel(bytes, file);
  const dir = path.dirname(path.resolve(file));
  const refs = externalRefs(model, dir);
  if (!opts.deferExternalData) readExternal(refs);
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

interface ExternalRef {
  tensor: TensorProto;
  file: string;
  offset: number;
  length: number;
}

/** The external-data references of a model's tensors, validated against the files in baseDir. */
function externalRefs(model: ModelProto, baseDir: string): ExternalRef[] {
  return externalTensors(model).map((t) => externalRef(t, baseDir));
}

function externalTensors(model: ModelProto): TensorProto[] {
  const tensors = [...(model.graph?.initializer ?? [])];
  for (const n of model.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) tensors.push(a.t);
  return tensors.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
}

function externalRef(t: TensorProto, baseDir: string): ExternalRef {
  const location = externalField(t, 'location');
  if (!location) throw new ModelError('MISSING_EXTERNAL_DATA', `initializer ${t.name} has external data without a location`);
  const file = resolveExternalLocation(baseDir, location);
  if (!fs.existsSync(file)) {
    throw new ModelError('MISSING_EXTERNAL_DATA', `external data file "${location}" (needed by initializer ${t.name}) is missing next to the model`);
  }
  const size = fs.statSync(file).size;
  const offset = Number(externalField(t, 'offset') ?? 0);
  const length = externalField(t, 'length') !== undefined ? Number(externalField(t, 'length')) : size - offset;
  if (offset + length > size) {
    throw new ModelError('TRUNCATED_MODEL', `external data file "${location}" is too short for initializer ${t.name} (needs ${offset + length} bytes, has ${size})`);
  }
  return { tensor: t, file, offset, length };
}

/** Read referenced bytes into each tensor (one buffer per tensor, so they can be released one by one). */
function readExternal(refs: ExternalRef[]): void {
  const fds = new Map<string, number>();
  try {
    for (const r of refs) {
      let fd = fds.get(r.file);
      if (fd === undefined) fds.set(r.file, (fd = fs.openSync(r.file, 'r')));
      const buf = Buffer.allocUnsafe(r.length);
      fs.readSync(fd, buf, 0, r.length, r.offset);
      r.tensor.rawData = buf;
      r.tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      r.tensor.externalData = [];
    }
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}

/**
 * Replace external-data references by their bytes (files in baseDir): of the whole model, or only of
 * the given tensors. Locations outside baseDir are refused.
 */
export function inlineExternalData(model: ModelProto, baseDir: string, only?: TensorProto[]): void {
  const tensors = only ? only.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) : externalTensors(model);
  readExternal(tensors.map((t) => externalRef(t, baseDir)));
}

/**
 * Write a model to `file`. With `externalData` (a file name next to it), tensors of 1 KiB or more go
 * to that file and are referenced from the model, as exporters do; the model object is not changed.
 */
export function saveModel(model: ModelProto, file: string, opts: { externalData?: string } = {}): void {
  if (!opts.externalData) {
    fs.writeFileSync(file, encodeModel(model));
    return;
  }
  const location = opts.externalData;
  const fd = fs.openSync(resolveExternalLocation(path.dirname(file), location), 'w');
  let offset = 0;
  let initializer: TensorProto[];
  try {
    initializer = (model.graph?.initializer ?? []).map((t) => {
      const raw = t.rawData;
      if (!raw || raw.length < 1024) return t;
      fs.writeSync(fd, raw);
      const ref = onnx.TensorProto.create({
        ...t,
        rawData: new Uint8Array(0),
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      });
      offset += raw.length;
      return ref;
    });
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(file, encodeModel({ ...model, graph: { ...model.graph, initializer } }));
}

/** Serialise a model to bytes (all weights inline). */
export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
