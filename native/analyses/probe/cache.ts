// On-disk activation cache for probing: one folder per (model, data set, options) key holding a
// manifest.json and, per chunk of examples, one binary file per layer (float32 or float16) plus a
// chunk record written last. Every file is written to a temporary name and renamed, so a killed run
// leaves only whole chunks; a resumed run skips the chunks already recorded.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ProbeCacheDtype } from '../../../protocol';
import { floatToHalf, halfToFloat } from '../../onnx/tensor';

/** Everything the cached features depend on. Any change gives another cache folder. */
export interface CacheKey {
  model: string;
  dataset: string;
  /** Feature-relevant request options (pooling, columns, dtype, chunk size…). */
  options: Record<string, unknown>;
}

export interface CacheManifest {
  version: 1;
  key: CacheKey;
  examples: number;
  hidden: number;
  chunkSize: number;
  dtype: ProbeCacheDtype;
  /** Feature sets stored per chunk: layer names, then 'random'. */
  features: string[];
}

/** What a finished chunk records besides its feature files (e.g. per-layer metric sums). */
export type ChunkRecord = Record<string, unknown>;

/**
 * Fingerprint of a model: sha256 of the .onnx file, plus size and modification time of its external
 * data files (hashing gigabytes of weights on every run would cost more than it protects).
 */
export async function modelFingerprint(onnxFile: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(onnxFile)) hash.update(chunk as Buffer);
  const base = basename(onnxFile);
  for (const name of (await readdir(dirname(onnxFile))).sort()) {
    if (name !== base && name.startsWith(base) && /\.(data|onnx_data)$/.test(name)) {
      const s = await stat(join(dirname(onnxFile), name));
      hash.update(`${name}:${s.size}:${s.mtimeMs}`);
    }
  }
  return hash.digest('hex');
}

export function cacheFolder(root: string, key: CacheKey): string {
  const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);
  return join(root, digest);
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}


function encode(data: Float32Array, dtype: ProbeCacheDtype): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]);
  return new Uint8Array(out.buffer);
}

function decodeInto(bytes: Buffer, dtype: ProbeCacheDtype, out: Float32Array, offset: number): number {
  const copy = new Uint8Array(bytes); // aligned copy
  if (dtype === 'float32') {
    const v = new Float32Array(copy.buffer);
    out.set(v, offset);
    return v.length;
  }
  const v = new Uint16Array(copy.buffer);
  for (let i = 0; i < v.length; i++) out[offset + i] = halfToFloat(v[i]);
  return v.length;
}

/** An open cache folder. */
export class FeatureCache {
  private constructor(readonly dir: string, readonly manifest: CacheManifest) {}

  /** Opens the folder for `key`, creating it (and its manifest) when absent or different. */
  static async open(root: string, key: CacheKey, shape: Omit<CacheManifest, 'version' | 'key'>): Promise<FeatureCache> {
    const dir = cacheFolder(root, key);
    const manifest: CacheManifest = { version: 1, key, ...shape };
    const path = join(dir, 'manifest.json');
    if (existsSync(path)) {
      const old = JSON.parse(await readFile(path, 'utf8')) as CacheManifest;
      if (JSON.stringify(old) === JSON.stringify(manifest)) return new FeatureCache(dir, manifest);
    }
    await mkdir(dir, { recursive: true });
    await writeAtomic(path, JSON.stringify(manifest, null, 1));
    return new FeatureCache(dir, manifest);
  }

  /** Opens an existing folder read-only (the fitting worker). */
  static async load(dir: string): Promise<FeatureCache> {
    return new FeatureCache(dir, JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as CacheManifest);
  }

  get chunks(): number {
    return Math.ceil(this.manifest.examples / this.manifest.chunkSize);
  }

  private chunkName(c: number): string {
    return `chunk-${String(c).padStart(5, '0')}`;
  }

  private featurePath(c: number, feature: number): string {
    return join(this.dir, `${this.chunkName(c)}.f${String(feature).padStart(3, '0')}.bin`);
  }

  /** The record of a finished chunk, or undefined when the chunk is not (completely) written. */
  async chunkRecord(c: number): Promise<ChunkRecord | undefined> {
    const path = join(this.dir, `${this.chunkName(c)}.json`);
    return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as ChunkRecord) : undefined;
  }

  /** Writes chunk `c`: one [rows, hidden] matrix per feature set, then its record (which marks it done). */
  async writeChunk(c: number, features: Float32Array[], record: ChunkRecord): Promise<void> {
    if (features.length !== this.manifest.features.length) throw new Error('feature count does not match the manifest');
    for (let f = 0; f < features.length; f++) await writeAtomic(this.featurePath(c, f), encode(features[f], this.manifest.dtype));
    await writeAtomic(join(this.dir, `${this.chunkName(c)}.json`), JSON.stringify(record));
  }

  /** All examples' features of one feature set, [examples, hidden] float32 (one feature set in memory at a time). */
  async readFeature(feature: number): Promise<Float32Array> {
    const { examples, hidden } = this.manifest;
    const out = new Float32Array(examples * hidden);
    let offset = 0;
    for (let c = 0; c < this.chunks; c++) offset += decodeInto(await readFile(this.featurePath(c, feature)), this.manifest.dtype, out, offset);
    if (offset !== out.length) throw new Error(`cache ${this.dir} is incomplete (${offset / hidden} of ${examples} examples)`);
    return out;
  }
}
