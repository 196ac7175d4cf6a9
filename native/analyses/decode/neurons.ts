// Neuron decoding (Geva et al., "FFN layers are key-value memories"; "Decoding specialised feature
// neurons with the final projection layer"): each MLP neuron's output weights, scaled by the final
// norm's gain, projected through the unembedding; the tokens it promotes (largest logits) and
// suppresses (smallest). Runs in onnxruntime in chunks of neurons.
import type * as ort from 'onnxruntime-node';
import type { Engine, HeadWeights, Mat } from '../../engine/api';
import { ModelError } from '../../onnx/errors';
import { DType, GraphBuilder, f32, i64, openSession } from './graph';
import { transpose } from './lensHead';

/** Promoted and suppressed token ids with logit scores per neuron. */
export interface NeuronTokens {
  count: number;
  k: number;
  /** [count, k], descending score. */
  promotedIds: Int32Array;
  promotedScores: Float32Array;
  /** [count, k], ascending score (most suppressed first). */
  suppressedIds: Int32Array;
  suppressedScores: Float32Array;
  /** L2 norm of each neuron's output weights. */
  norms: Float32Array;
}

const CHUNK_ELEMENTS = 1 << 24;

/** Projection graph: rows [N, d] ↦ (rows ⊙ gain)·Wᵀ, then top-k largest and smallest. */
function buildProjectionGraph(w: HeadWeights): Uint8Array {
  const d = w.unembed.cols;
  const V = w.unembed.rows;
  const g = new GraphBuilder();
  const rows = g.input('rows', DType.float, ['N', d]);
  const k = g.input('k', DType.int64, [1]);
  const wt = g.floats(transpose(w.unembed.data, V, d), [d, V], 'unembed_t');
  const z = g.op('MatMul', [g.op('Mul', [rows, g.floats(w.norm.weight, [d], 'gain')]), wt]);
  g.opN('TopK', [z, k], ['up_v', 'up_i'], { axis: -1, largest: 1, sorted: 1 });
  g.opN('TopK', [z, k], ['down_v', 'down_i'], { axis: -1, largest: 0, sorted: 1 });
  for (const [name, t] of [['up_v', DType.float], ['up_i', DType.int64], ['down_v', DType.float], ['down_i', DType.int64]] as const) g.output(name, t, ['N', 'K']);
  return g.build('neuron_projection');
}

const sessions = new WeakMap<Engine, Promise<ort.InferenceSession>>();
const results = new WeakMap<Engine, Map<string, Promise<NeuronTokens>>>();

/** Top promoted / suppressed tokens of every neuron of block `layer` (cached per engine, layer and k). */
export function decodeNeurons(engine: Engine, layer: number, k: number): Promise<NeuronTokens> {
  const L = engine.layerMap.numLayers;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new ModelError('BAD_REQUEST', `layer must be an integer in [0, ${L - 1}]`);
  const V = engine.layerMap.vocabSize;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(V, 100)) throw new ModelError('BAD_REQUEST', `topK must be an integer in [1, ${Math.min(V, 100)}]`);
  let perEngine = results.get(engine);
  if (!perEngine) results.set(engine, (perEngine = new Map()));
  const key = `${layer}:${k}`;
  let res = perEngine.get(key);
  if (!res) {
    const weights = engine.mlpOutputWeights(layer);
    if (!weights) throw new ModelError('UNSUPPORTED_ARCHITECTURE', `The MLP output weights of block ${layer} cannot be read from this graph`);
    res = project(engine, weights, k);
    res.catch(() => perEngine!.delete(key));
    perEngine.set(key, res);
  }
  return res;
}

async function project(engine: Engine, weights: Mat, k: number): Promise<NeuronTokens> {
  let session = sessions.get(engine);
  if (!session) {
    session = openSession(buildProjectionGraph(engine.headWeights()));
    sessions.set(engine, session);
  }
  const s = await session;
  const { rows: N, cols: d } = weights;
  const V = engine.layerMap.vocabSize;
  const out: NeuronTokens = {
    count: N,
    k,
    promotedIds: new Int32Array(N * k),
    promotedScores: new Float32Array(N * k),
    suppressedIds: new Int32Array(N * k),
    suppressedScores: new Float32Array(N * k),
    norms: new Float32Array(N),
  };
  const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / V));
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nc = Math.min(chunk, N - n0);
    const r = await s.run({ rows: f32(weights.data.slice(n0 * d, (n0 + nc) * d), [nc, d]), k: i64([k], [1]) });
    out.promotedScores.set(r.up_v.data as Float32Array, n0 * k);
    out.suppressedScores.set(r.down_v.data as Float32Array, n0 * k);
    out.promotedIds.set(Int32Array.from(r.up_i.data as BigInt64Array, Number), n0 * k);
    out.suppressedIds.set(Int32Array.from(r.down_i.data as BigInt64Array, Number), n0 * k);
  }
  for (let n = 0; n < N; n++) {
    let s2 = 0;
    for (let i = 0; i < d; i++) s2 += weights.data[n * d + i] ** 2;
    out.norms[n] = Math.sqrt(s2);
  }
  return out;
}
