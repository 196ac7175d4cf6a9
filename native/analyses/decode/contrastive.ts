// Contrastive layer decoding (DoLa, Chuang et al.): the next-token distribution of the last layer
// contrasted with a premature layer's logit-lens distribution, restricted to plausible tokens
// (p_final ≥ α·max p_final). The premature layer is given, or the one with the largest Jensen-Shannon
// divergence from the last layer at the last position. Only the last position's [layers, V] logits are
// materialised.
import type { Engine, Mat } from '../../engine/api';
import { ModelError } from '../../onnx/errors';

export interface ContrastiveOutput {
  premature: number;
  /** JSD(final, layer) per layer (embed … last block), nats. */
  jsd: number[];
  /** Top-k of the final distribution: ids and probabilities. */
  greedy: { id: number; score: number }[];
  /** Top-k of log p_final − log p_premature over plausible tokens. */
  contrastive: { id: number; score: number }[];
}

/** `states` are the lens states (from collectStates): embedding, then each block's output. */
export async function contrastiveDecode(engine: Engine, states: Mat[], opts: { premature?: number; alpha?: number; topK?: number } = {}): Promise<ContrastiveOutput> {
  const G = states.length;
  const L = G - 1;
  const alpha = opts.alpha ?? 0.1;
  const k = opts.topK ?? 5;
  if (!(alpha > 0 && alpha < 1)) throw new ModelError('BAD_REQUEST', 'alpha must be in (0, 1)');
  if (opts.premature !== undefined && !(Number.isInteger(opts.premature) && opts.premature >= 0 && opts.premature < L)) {
    throw new ModelError('BAD_REQUEST', `premature must be an integer layer in [0, ${L - 1}]`);
  }
  const d = states[0].cols;
  const T = states[0].rows;
  const last: Mat = { data: new Float32Array(G * d), rows: G, cols: d };
  states.forEach((s, g) => last.data.set(s.data.subarray((T - 1) * d, T * d), g * d));
  const logits = await engine.head(last);
  const V = logits.cols;
  const logp = Array.from({ length: G }, (_, g) => logSoftmax(logits.data.subarray(g * V, (g + 1) * V)));
  const final = logp[L];
  const jsd = logp.map((lp) => jensenShannon(final, lp));
  const premature = opts.premature ?? argmaxOf(jsd.slice(0, L));
  let maxP = -Infinity;
  for (const x of final) maxP = Math.max(maxP, x);
  const threshold = Math.log(alpha) + maxP;
  const contrast = new Float64Array(V);
  for (let v = 0; v < V; v++) contrast[v] = final[v] >= threshold ? final[v] - logp[premature][v] : -Infinity;
  return {
    premature,
    jsd,
    greedy: topK(final, k).map((id) => ({ id, score: Math.exp(final[id]) })),
    contrastive: topK(contrast, k).filter((id) => Number.isFinite(contrast[id])).map((id) => ({ id, score: contrast[id] })),
  };
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}

/** JSD between two distributions given as log-probabilities, nats. */
export function jensenShannon(a: Float64Array, b: Float64Array): number {
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.exp(a[i]);
    const q = Math.exp(b[i]);
    const m = 0.5 * (p + q);
    if (m <= 0) continue;
    const lm = Math.log(m);
    if (p > 0) js += 0.5 * p * (a[i] - lm);
    if (q > 0) js += 0.5 * q * (b[i] - lm);
  }
  return Math.max(0, js);
}

function argmaxOf(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function topK(x: Float64Array, k: number): number[] {
  return Array.from(x.keys()).sort((a, b) => x[b] - x[a]).slice(0, k);
}
