// Probe methods (protocol/probe.ts): inspect a data set, train per-layer probes (extraction into the
// activation cache, fitting in a worker thread), the zero-shot baseline, and read a saved probe out on a prompt.
import { readFile, stat } from 'node:fs/promises';
import type { InspectDatasetParams, ProbeDatasetSpec, ProbeReadoutParams, ProbeTrainParams, ZeroShotParams } from '../../protocol';
import { modelFingerprint } from '../analyses/probe/cache';
import { DatasetError, formatFromPath, inspectDataset, loadDataset } from '../analyses/probe/dataset';
import { probeReadout } from '../analyses/probe/readout';
import { runProbing } from '../analyses/probe/run';
import { loadProbes } from '../analyses/probe/saved';
import { zeroShotBaseline } from '../analyses/probe/zeroShot';
import { ModelError } from '../onnx/errors';
import type { SidecarServer } from '../server';
import { sidecarError } from '../server/errors';

const POOLINGS = ['last', 'mean', 'span'];
const FORMATS = ['csv', 'tsv', 'jsonl', 'json'];

function bad(message: string): ModelError {
  return new ModelError('BAD_REQUEST', message);
}

function checkString(v: unknown, name: string, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || !v) throw bad(`${name} must be a non-empty string`);
}

function checkSpec(spec: ProbeDatasetSpec | undefined): void {
  if (!spec || typeof spec !== 'object') throw bad('dataset must be an object {path, textColumn, labelColumn, …}');
  checkString(spec.path, 'dataset.path');
  checkString(spec.textColumn, 'dataset.textColumn');
  checkString(spec.labelColumn, 'dataset.labelColumn');
  checkString(spec.groupColumn, 'dataset.groupColumn', true);
  checkString(spec.spanColumn, 'dataset.spanColumn', true);
  if (spec.format !== undefined && !FORMATS.includes(spec.format)) throw bad(`dataset.format must be one of ${FORMATS.join(', ')}`);
}

/** Model fingerprints by file, path + size + mtime (hashing the graph once per change). */
const fingerprints = new Map<string, Promise<string>>();
async function fingerprint(onnxFile: string): Promise<string> {
  const s = await stat(onnxFile);
  const key = `${onnxFile}:${s.size}:${s.mtimeMs}`;
  if (!fingerprints.has(key)) fingerprints.set(key, modelFingerprint(onnxFile));
  return fingerprints.get(key)!;
}

/** A DatasetError as BAD_DATASET whose detail lists every malformed row, one per line. */
async function datasetErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof DatasetError) throw sidecarError('BAD_DATASET', e.message, e.rows.map((r) => `line ${r.line}: ${r.reason}`).join('\n') || undefined);
    throw e;
  }
}

export function register(server: SidecarServer): void {
  server.handle('probe/inspectDataset', async (params: InspectDatasetParams) => {
    checkString(params.path, 'path');
    const format = params.format ?? formatFromPath(params.path);
    let content: string;
    try {
      content = await readFile(params.path, 'utf8');
    } catch (e) {
      throw new DatasetError(`Cannot read the data set ${params.path}: ${(e as Error).message}`);
    }
    return datasetErrors(async () => inspectDataset(content, format));
  });

  server.handle('probe/train', async (params: ProbeTrainParams, ctx) => {
    const model = ctx.models.get(params.modelId);
    checkSpec(params.dataset);
    if (!POOLINGS.includes(params.pooling)) throw bad(`pooling must be one of ${POOLINGS.join(', ')}`);
    checkString(params.cacheDir, 'cacheDir');
    checkString(params.saveTo, 'saveTo', true);
    const fingerprintOfModel = await fingerprint(model.info.onnxFile);
    return datasetErrors(() => runProbing(
      {
        source: model.engine,
        tokenizer: model.tokenizer,
        modelName: model.info.name,
        modelFingerprint: fingerprintOfModel,
        maxTokens: model.contextLength,
        signal: ctx.signal,
        onProgress: (fraction, message) => ctx.progress(fraction, message),
      },
      params,
    ));
  });

  server.handle('probe/zeroShot', async (params: ZeroShotParams, ctx) => {
    const model = ctx.models.get(params.modelId);
    checkSpec(params.dataset);
    if (!params.words || typeof params.words !== 'object') throw bad('words must be an object {label: word}');
    return datasetErrors(async () => zeroShotBaseline(
      {
        encode: (text) => model.tokenizer.encode(text),
        tokenText: (id) => model.tokenizer.tokenText(id),
        nextLogits: (ids, opts) => model.nextLogits(ids, opts),
        maxTokens: model.contextLength,
        signal: ctx.signal,
        onProgress: (fraction, message) => ctx.progress(fraction, message),
      },
      await loadDataset({ ...params.dataset, spanColumn: undefined }),
      params.words,
    ));
  });

  server.handle('probe/readout', async (params: ProbeReadoutParams, ctx) => {
    const model = ctx.models.get(params.modelId);
    checkString(params.probeFile, 'probeFile');
    const probes = await loadProbes(params.probeFile);
    const { ids, tokens } = model.encode(params);
    ctx.progress(0, `Applying ${probes.layers.length} layer probes`);
    const probs = await probeReadout(model.engine, ids, probes, ctx.signal);
    return {
      tokens,
      labels: probes.labels,
      layerNames: probes.layers.map((l) => l.name),
      probs,
      probe: { datasetName: probes.datasetName, pooling: probes.pooling, bestLayer: probes.bestLayer, modelName: probes.modelName, accuracy: probes.layers.map((l) => l.accuracy) },
    };
  });
}
