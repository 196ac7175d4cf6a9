// Public entry of the engine: createEngine (stage sessions under plans) and mapModel (graph analysis only).
import path from 'node:path';
import type { LayerMap } from '../../protocol';
import { mapGraph } from '../graph/map';
import { partition } from '../graph/partition';
import { encodeModel, inlineExternalData, loadModel, type ModelProto } from '../onnx/model';
import { LayeredEngine } from './engine';
import { sessionFactory, type ProviderRequest } from './session';

export type { Engine, Mat, KvCache, StageState, ForwardOptions, ForwardResult, HeadWeights, SlotOutputs } from './api';
export { ModelError } from '../onnx/errors';
export { LayeredEngine } from './engine';

/** How long the model file decoded to re-read released weights is kept for the next block. */
const RELOAD_KEEP_MS = 5_000;

export interface EngineOptions {
  provider?: ProviderRequest;
  /** Intra-op threads per session (default: min(4, CPU count)). */
  threads?: number;
  /** Blocks split for a sublayer plan are joined again after this long without one (default 30 s). */
  rejoinIdleMs?: number;
}

/** Model source: an .onnx file (external data next to it) or an in-memory model whose external data lives in baseDir. */
export type ModelSource = { path: string } | { model: ModelProto; baseDir: string };

/**
 * Map the residual stream of a model (pure graph analysis, no onnxruntime).
 * `canonical` is the graph with fused Skip/Embed layer norms expanded.
 */
export function mapModel(model: ModelProto): { layerMap: LayerMap; canonical: ModelProto } {
  const m = mapGraph(model);
  return { layerMap: m.layerMap, canonical: m.canonical };
}

/**
 * Load a model, map it, split it into stage sessions and return the engine. Throws ModelError with a
 * code (NOT_ONNX, TRUNCATED_MODEL, MISSING_EXTERNAL_DATA, EXTERNAL_DATA_OUTSIDE_FOLDER,
 * UNSUPPORTED_ARCHITECTURE) on bad input. An in-memory model gets its external data inlined in place.
 */
export async function createEngine(src: ModelSource, opts: EngineOptions = {}): Promise<LayeredEngine> {
  let model: ModelProto;
  let file: string | undefined;
  if ('path' in src) {
    file = path.resolve(src.path);
    // external weights are read stage by stage while the sessions are created
    model = loadModel(file, { deferExternalData: true });
  } else {
    model = src.model;
    inlineExternalData(model, src.baseDir);
  }
  const mapping = mapGraph(model);
  const parts = partition(mapping);
  const factory = await sessionFactory(opts.provider ?? 'cpu', opts.threads);
  if (file) {
    // the model read here is ours: its weight bytes are released stage by stage, re-read on demand
    const f = file;
    // a sweep splits block after block: keep the decoded file (inline weights included) for a few seconds
    let reloaded: ModelProto | undefined;
    const reloadInitializers = (names: string[]) => {
      if (!reloaded) {
        reloaded = loadModel(f, { deferExternalData: true });
        setTimeout(() => (reloaded = undefined), RELOAD_KEEP_MS).unref();
      }
      const want = new Set(names);
      return (reloaded.graph?.initializer ?? []).filter((t) => want.has(t.name!));
    };
    return LayeredEngine.create({ mapping, factory, monolithic: f, weights: () => loadModel(f), reloadInitializers }, parts, { releaseWeights: true, externalDir: path.dirname(f), rejoinIdleMs: opts.rejoinIdleMs });
  }
  const keep = model;
  return LayeredEngine.create({ mapping, factory, monolithic: () => encodeModel(keep), weights: () => keep }, parts, { rejoinIdleMs: opts.rejoinIdleMs });
}
