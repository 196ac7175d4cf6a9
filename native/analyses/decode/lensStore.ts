// Fitted lenses on disk: <lensDir>/<modelKey>/<kind>.lens, a JSON header then the float32 maps
// (layer by layer: m [d, d], then b [d]).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LensEval, ModelInfo } from '../../../protocol';
import { ModelError } from '../../onnx/errors';
import type { AffineLens } from './lens';

const MAGIC = 'layerlens-lens-1';

/** What a lens file says about how it was fitted. */
export interface LensMeta {
  kind: AffineLens['kind'];
  modelKey: string;
  /** Hash of the training + held-out token sequences and the options: a cache key. */
  fitKey: string;
  layers: number;
  hidden: number;
  trainTokens: number;
  heldOutTokens: number;
  evals: LensEval[];
  curve?: { step: number; kl: number }[];
  createdAt: string;
}

/** A folder name identifying a model file (its name, path and size). */
export function modelKey(info: Pick<ModelInfo, 'name' | 'onnxFile' | 'sizeBytes'>): string {
  const hash = createHash('sha256').update(`${info.onnxFile}|${info.sizeBytes}`).digest('hex').slice(0, 12);
  return `${info.name}-${hash}`;
}

export function lensFile(lensDir: string, modelKey: string, kind: AffineLens['kind']): string {
  return join(lensDir, modelKey.replace(/[^A-Za-z0-9._-]/g, '_'), `${kind}.lens`);
}

export async function saveLens(file: string, lens: AffineLens, meta: LensMeta): Promise<void> {
  const header = Buffer.from(JSON.stringify({ magic: MAGIC, ...meta }), 'utf8');
  const pad = (4 - ((4 + header.length) % 4)) % 4;
  const d = lens.hidden;
  const body = new Float32Array(lens.m.length * (d * d + d));
  lens.m.forEach((m, i) => {
    body.set(m, i * (d * d + d));
    body.set(lens.b[i], i * (d * d + d) + d * d);
  });
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length + pad);
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.concat([len, header, Buffer.alloc(pad, 0x20), Buffer.from(body.buffer)]));
  await rename(tmp, file);
}

/** The lens and its meta, or undefined when there is no file. Throws BAD_REQUEST on a corrupt file. */
export async function loadLens(file: string): Promise<{ lens: AffineLens; meta: LensMeta } | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return undefined;
  }
  const bad = (why: string): never => {
    throw new ModelError('BAD_REQUEST', `The lens file ${file} is unusable (${why}); fit the lens again`);
  };
  if (buf.length < 4) bad('truncated');
  const hlen = buf.readUInt32LE(0);
  let meta: LensMeta & { magic?: string };
  try {
    meta = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8'));
  } catch {
    return bad('bad header');
  }
  if (meta.magic !== MAGIC) bad('not a layerlens lens');
  const d = meta.hidden;
  const per = d * d + d;
  const bodyBytes = buf.length - 4 - hlen;
  if (bodyBytes !== meta.layers * per * 4) bad('truncated');
  const body = new Float32Array(buf.buffer.slice(buf.byteOffset + 4 + hlen, buf.byteOffset + buf.length));
  const lens: AffineLens = {
    kind: meta.kind,
    hidden: d,
    m: Array.from({ length: meta.layers }, (_, i) => body.slice(i * per, i * per + d * d)),
    b: Array.from({ length: meta.layers }, (_, i) => body.slice(i * per + d * d, (i + 1) * per)),
  };
  delete meta.magic;
  return { lens, meta };
}
