// Activation extraction for probing: the residual stream after the embedding and after every block,
// pooled per example (last token, mean, or a marked token span), computed in batches with
// Engine.forwardBatch and streamed chunk by chunk into a FeatureCache (resumable). Alongside, each
// chunk records per-layer sums of the representation metrics and a "random features" set: pooled
// random token embeddings of the same width (the lexical floor for the probes).
import type { ProbeCacheDtype, ProbePooling, TapName, TokenSpan } from '../../../protocol';
import type { Engine, Mat } from '../../engine/api';
import { FeatureCache, type CacheKey } from './cache';
import { curvature, inEntropySample, promptEntropy } from './repmetrics';
import { gaussian, rng } from './stats';

/** One example as token ids; `span` is the token range [start, end) pooled by 'span'. */
export interface TokenizedExample {
  ids: number[];
  span?: [number, number];
}

/** What extraction needs from an engine. */
export type ActivationSource = Pick<Engine, 'layerMap' | 'forwardBatch'>;

export interface ExtractOptions {
  pooling: ProbePooling;
  cacheRoot: string;
  key: CacheKey;
  dtype?: ProbeCacheDtype;
  batchSize?: number;
  chunkSize?: number;
  seed?: number;
  signal?: AbortSignal;
  /** Examples done (cached or computed), total, and the estimated seconds left. */
  onProgress?: (done: number, total: number, etaSeconds: number | undefined) => void;
}

export interface Extraction {
  cache: FeatureCache;
  /** Feature set names: residual taps, then 'random'. */
  layerNames: string[];
  resumedChunks: number;
  computedChunks: number;
  ms: number;
  /** Examples per second over the chunks computed in this call (0 when all were cached). */
  examplesPerSecond: number;
  /** Mean over examples (prompt entropy: over the ENTROPY_SAMPLE sample), per layer; examples too short for a metric are left out. */
  promptEntropy: number[];
  curvature: number[];
}

/** Residual taps probed: the embedding and each block's output, where the graph exposes them. */
export function probeTaps(source: ActivationSource): TapName[] {
  const available = new Set(source.layerMap.taps.filter((t) => t.available).map((t) => t.name));
  const taps: TapName[] = ['embed', ...source.layerMap.blocks.map((b) => `blocks.${b.index}.resid_post` as TapName)];
  return taps.filter((t) => available.has(t));
}

/** Token range [start, end) of the tokens overlapping the character span [s, e). */
export function charSpanToTokens(tokens: TokenSpan[], span: [number, number]): [number, number] | undefined {
  let start = -1;
  let end = -1;
  tokens.forEach((t, i) => {
    if (t.end > span[0] && t.start < span[1] && t.end > t.start) {
      if (start < 0) start = i;
      end = i + 1;
    }
  });
  return start < 0 ? undefined : [start, end];
}

/** Rows of a [T, d] matrix pooled into `out` (length d). */
export function poolRows(m: Mat, pooling: ProbePooling, span: [number, number] | undefined, out: Float32Array): void {
  const d = m.cols;
  const [a, b] = pooling === 'last' ? [m.rows - 1, m.rows] : pooling === 'mean' ? [0, m.rows] : (span ?? [0, 0]);
  if (b <= a || b > m.rows) throw new Error(`cannot pool rows [${a}, ${b}) of a ${m.rows}-token sequence`);
  out.fill(0);
  for (let r = a; r < b; r++) for (let j = 0; j < d; j++) out[j] += m.data[r * d + j];
  const inv = 1 / (b - a);
  for (let j = 0; j < d; j++) out[j] *= inv;
}

/** Fixed random token embeddings (seeded per token id), for the random-features floor. */
export class RandomEmbeddings {
  private readonly table = new Map<number, Float32Array>();
  constructor(readonly dim: number, readonly seed: number) {}

  get(id: number): Float32Array {
    let v = this.table.get(id);
    if (!v) {
      const g = gaussian(rng((this.seed * 1000003) ^ (id + 1)));
      v = Float32Array.from({ length: this.dim }, g);
      this.table.set(id, v);
    }
    return v;
  }

  /** The embeddings of `ids` as a [T, dim] matrix. */
  rows(ids: number[]): Mat {
    const data = new Float32Array(ids.length * this.dim);
    ids.forEach((id, t) => data.set(this.get(id), t * this.dim));
    return { data, rows: ids.length, cols: this.dim };
  }
}

function checkExamples(examples: TokenizedExample[], pooling: ProbePooling): void {
  examples.forEach((ex, i) => {
    if (ex.ids.length === 0) throw new Error(`example ${i} has no tokens`);
    if (pooling === 'span' && (!ex.span || ex.span[0] < 0 || ex.span[1] > ex.ids.length || ex.span[1] <= ex.span[0])) {
      throw new Error(`example ${i} has no usable token span`);
    }
  });
}

/** Extracts (or resumes, or reuses) the pooled features of `examples` into the cache for `opts.key`. */
export async function extractFeatures(source: ActivationSource, examples: TokenizedExample[], opts: ExtractOptions): Promise<Extraction> {
  checkExamples(examples, opts.pooling);
  const taps = probeTaps(source);
  const d = source.layerMap.hiddenSize;
  const chunkSize = opts.chunkSize ?? 64;
  const batchSize = opts.batchSize ?? 8;
  const layerNames = [...taps, 'random'];
  const cache = await FeatureCache.open(opts.cacheRoot, opts.key, { examples: examples.length, hidden: d, chunkSize, dtype: opts.dtype ?? 'float32', features: layerNames });
  const random = new RandomEmbeddings(d, opts.seed ?? 1);
  const entropySum = new Float64Array(taps.length);
  const entropyCount = new Float64Array(taps.length);
  const curvSum = new Float64Array(taps.length);
  const curvCount = new Float64Array(taps.length);
  const t0 = performance.now();
  let computeMs = 0;
  let computedExamples = 0;
  let resumedChunks = 0;
  let computedChunks = 0;
  let done = 0;
  const pooled = new Float32Array(d);
  for (let c = 0; c < cache.chunks; c++) {
    opts.signal?.throwIfAborted();
    const lo = c * chunkSize;
    const hi = Math.min(examples.length, lo + chunkSize);
    let record = await cache.chunkRecord(c);
    if (record) {
      resumedChunks++;
    } else {
      const tc = performance.now();
      const features = layerNames.map(() => new Float32Array((hi - lo) * d));
      const rec = { entropySum: new Array<number>(taps.length).fill(0), entropyCount: new Array<number>(taps.length).fill(0), curvSum: new Array<number>(taps.length).fill(0), curvCount: new Array<number>(taps.length).fill(0) };
      for (let b = lo; b < hi; b += batchSize) {
        const batch = examples.slice(b, Math.min(hi, b + batchSize));
        const results = await source.forwardBatch(batch.map((e) => e.ids), { taps, logits: 'none', signal: opts.signal });
        results.forEach((res, k) => {
          const row = b + k - lo;
          taps.forEach((tap, l) => {
            const m = res.taps.get(tap);
            if (!m) throw new Error(`the engine returned no ${tap} tap`);
            poolRows(m, opts.pooling, batch[k].span, pooled);
            features[l].set(pooled, row * d);
            const h = inEntropySample(b + k, examples.length) ? promptEntropy(m.data, m.rows, d) : NaN;
            if (!Number.isNaN(h)) (rec.entropySum[l] += h), rec.entropyCount[l]++;
            const cv = curvature(m.data, m.rows, d);
            if (!Number.isNaN(cv)) (rec.curvSum[l] += cv), rec.curvCount[l]++;
          });
          poolRows(random.rows(batch[k].ids), opts.pooling, batch[k].span, pooled);
          features[taps.length].set(pooled, row * d);
        });
        opts.signal?.throwIfAborted();
      }
      await cache.writeChunk(c, features, rec);
      record = rec;
      computedChunks++;
      computeMs += performance.now() - tc;
      computedExamples += hi - lo;
    }
    const r = record as { entropySum: number[]; entropyCount: number[]; curvSum: number[]; curvCount: number[] };
    for (let l = 0; l < taps.length; l++) {
      entropySum[l] += r.entropySum[l];
      entropyCount[l] += r.entropyCount[l];
      curvSum[l] += r.curvSum[l];
      curvCount[l] += r.curvCount[l];
    }
    done = hi;
    const rate = computedExamples / Math.max(1e-9, computeMs / 1000);
    opts.onProgress?.(done, examples.length, computedExamples > 0 ? (examples.length - done) / rate : undefined);
  }
  const mean = (s: Float64Array, n: Float64Array) => Array.from(s, (v, i) => (n[i] ? v / n[i] : NaN));
  return {
    cache,
    layerNames,
    resumedChunks,
    computedChunks,
    ms: performance.now() - t0,
    examplesPerSecond: computedExamples ? computedExamples / (computeMs / 1000) : 0,
    promptEntropy: mean(entropySum, entropyCount),
    curvature: mean(curvSum, curvCount),
  };
}
