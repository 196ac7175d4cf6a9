// A whole probing run: data set → tokens → cached pooled activations → probes fit in a worker →
// ProbeRunResult (and optionally a saved probe file). The sidecar handler and the bench call this.
import { basename } from 'node:path';
import type { MalformedRow, ProbeRunResult, ProbeTrainParams, TokenSpan } from '../../../protocol';
import { DatasetError, loadDataset } from './dataset';
import { controlLabels, controlType } from './control';
import { charSpanToTokens, extractFeatures, type ActivationSource, type TokenizedExample } from './extract';
import { saveProbes } from './saved';
import { fitInWorker } from './worker';

/** What a run needs from the model's tokenizer. */
export interface ProbeTokenizer {
  encode(text: string): { ids: number[]; tokens: TokenSpan[] };
}

export interface ProbeRunContext {
  source: ActivationSource;
  tokenizer: ProbeTokenizer;
  modelName: string;
  /** From modelFingerprint(); part of the cache key and the saved probes. */
  modelFingerprint: string;
  /** Longest example accepted, in tokens. */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

export type ProbeRunParams = Omit<ProbeTrainParams, 'modelId' | 'progressToken'>;

export async function runProbing(ctx: ProbeRunContext, params: ProbeRunParams): Promise<ProbeRunResult> {
  const { dataset: spec, pooling } = params;
  const folds = params.folds ?? 5;
  const seed = params.seed ?? 1;
  if (!Number.isInteger(folds) || folds < 2) throw new DatasetError(`folds must be an integer >= 2 (got ${folds}).`);
  const ds = await loadDataset(spec, pooling === 'span');
  // Tokenise; rows whose span covers no token or that are too long are malformed too.
  const examples: TokenizedExample[] = [];
  const keep: number[] = [];
  const bad: MalformedRow[] = [];
  ds.examples.forEach((ex, i) => {
    const enc = ctx.tokenizer.encode(ex.text);
    if (ctx.maxTokens !== undefined && enc.ids.length > ctx.maxTokens) return bad.push({ line: ex.line, reason: `${enc.ids.length} tokens, more than the limit ${ctx.maxTokens}` });
    const span = pooling === 'span' ? charSpanToTokens(enc.tokens, ex.span!) : undefined;
    if (pooling === 'span' && !span) return bad.push({ line: ex.line, reason: 'the span covers no token' });
    examples.push({ ids: enc.ids, span });
    keep.push(i);
  });
  if (bad.length && !spec.skipMalformed) {
    throw new DatasetError(`${bad.length} row(s) cannot be used: ${bad.slice(0, 20).map((m) => `line ${m.line}: ${m.reason}`).join('; ')}. Fix them or allow skipping them.`, bad);
  }
  const kept = keep.map((i) => ds.examples[i]);
  const y = Int32Array.from(keep, (i) => ds.y[i]);
  const classes = ds.labels.length;
  const counts = ds.labels.map((_, c) => y.filter((v) => v === c).length);
  if (counts.filter((c) => c > 0).length < 2) throw new DatasetError('After skipping rows fewer than two labels are left.');
  if (Math.min(...counts.filter((c) => c > 0)) < folds && !spec.groupColumn) {
    throw new DatasetError(`Every label needs at least ${folds} examples for ${folds}-fold cross-validation (counts: ${ds.labels.map((l, c) => `${l} ${counts[c]}`).join(', ')}).`);
  }
  const groupIds = spec.groupColumn ? new Map([...new Set(kept.map((e) => e.group!))].map((g, i) => [g, i])) : undefined;
  const groups = groupIds ? Int32Array.from(kept, (e) => groupIds.get(e.group!)!) : undefined;
  if (groupIds && groupIds.size < folds) throw new DatasetError(`Grouped ${folds}-fold cross-validation needs at least ${folds} groups; the data set has ${groupIds.size}.`);

  const extraction = await extractFeatures(ctx.source, examples, {
    pooling,
    cacheRoot: params.cacheDir,
    key: {
      model: ctx.modelFingerprint,
      dataset: ds.hash,
      options: { text: spec.textColumn, span: spec.spanColumn ?? null, skipMalformed: !!spec.skipMalformed, maxTokens: ctx.maxTokens ?? null, pooling, dtype: params.cacheDtype ?? 'float32', seed },
    },
    dtype: params.cacheDtype,
    batchSize: params.batchSize,
    seed,
    signal: ctx.signal,
    onProgress: (done, total, eta) => ctx.onProgress?.((0.5 * done) / total, `Activations ${done}/${total}${eta !== undefined ? `, about ${Math.ceil(eta)} s left` : ''}`),
  });
  const fit = await fitInWorker(
    { cacheDir: extraction.cache.dir, classes, y, yControl: controlLabels(kept.map(controlType), y, classes, seed + 17), groups, folds, seed },
    { signal: ctx.signal, onProgress: (done, total) => ctx.onProgress?.(0.5 + (0.5 * done) / total, `Probes: ${done}/${total} feature sets`) },
  );
  if (params.saveTo) {
    await saveProbes(params.saveTo, {
      format: 'layerlens-probe',
      version: 1,
      createdAt: new Date().toISOString(),
      modelName: ctx.modelName,
      modelFingerprint: ctx.modelFingerprint,
      datasetName: basename(spec.path),
      datasetHash: ds.hash,
      pooling,
      labels: ds.labels,
      hidden: ctx.source.layerMap.hiddenSize,
      bestLayer: fit.bestLayer,
      layers: fit.probes,
    });
  }
  return {
    modelName: ctx.modelName,
    datasetName: ds.name,
    datasetHash: ds.hash,
    pooling,
    labels: ds.labels,
    counts,
    examples: kept.length,
    folds,
    grouped: !!groups,
    layers: fit.layers,
    bestLayer: fit.bestLayer,
    conceptDepth: fit.conceptDepth,
    majority: fit.majority,
    randomFeatures: fit.randomFeatures,
    representation: { promptEntropy: extraction.promptEntropy, curvature: extraction.curvature, cka: fit.cka },
    skipped: [...ds.skipped, ...bad].sort((a, b) => a.line - b.line),
    extraction: { cached: extraction.computedChunks === 0, resumedChunks: extraction.resumedChunks, examplesPerSecond: extraction.examplesPerSecond, ms: extraction.ms },
    fitMs: fit.fitMs,
    probeFile: params.saveTo,
  };
}
