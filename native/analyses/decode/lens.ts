// Lenses over the residual stream: read the embedding and every block's output, decode them with the
// ORT lens head (optionally through a per-layer affine map), and shape the reductions per layer x token.
import type { LensGrid, LensKind, TapName } from '../../../protocol';
import type { Engine, Mat } from '../../engine/api';
import { LensHead } from './lensHead';

/**
 * A per-layer affine lens (shortcut or tuned): state i (0 = embedding, i = output of block i-1) maps to
 * x·m[i] + b[i] before the final norm + head. m[i] is [d, d] row-major, b[i] is [d].
 */
export interface AffineLens {
  kind: Exclude<LensKind, 'logit'>;
  hidden: number;
  m: Float32Array[];
  b: Float32Array[];
}

/**
 * Largest G·T·V a single lens-head run materialises (float32 elements per intermediate). Small enough
 * that the vocab-sized passes stay in cache (8 MiB): measured faster than one big run.
 */
const CHUNK_ELEMENTS = 1 << 21;

/** The residual taps read by lenses: the embedding, then each block's output. */
export function lensTaps(numLayers: number): TapName[] {
  return ['embed', ...Array.from({ length: numLayers }, (_, i) => `blocks.${i}.resid_post` as TapName)];
}

/** Row names matching `lensTaps`. */
export function layerNames(numLayers: number): string[] {
  return ['embed', ...Array.from({ length: numLayers }, (_, i) => `block ${i}`)];
}

/** Residual states [T, d] of the embedding and of every block's output for one text. */
export async function collectStates(engine: Engine, ids: ArrayLike<number>, signal?: AbortSignal): Promise<Mat[]> {
  const taps = lensTaps(engine.layerMap.numLayers);
  const missing = engine.layerMap.taps.filter((t) => taps.includes(t.name) && !t.available);
  if (missing.length > 0) {
    throw new Error(`This model does not expose ${missing.map((t) => `${t.name}${t.reason ? ` (${t.reason})` : ''}`).join(', ')}`);
  }
  const res = await engine.forward(ids, { taps, logits: 'none', signal });
  return taps.map((name) => {
    const m = res.taps.get(name);
    if (!m) throw new Error(`The engine did not return tap ${name}`);
    return m;
  });
}

const heads = new WeakMap<Engine, { plain?: Promise<LensHead>; affine?: Promise<LensHead> }>();

/** The engine's lens head (built once per engine and variant). */
export function lensHeadFor(engine: Engine, affine: boolean): Promise<LensHead> {
  let entry = heads.get(engine);
  if (!entry) heads.set(engine, (entry = {}));
  const key = affine ? 'affine' : 'plain';
  let head = entry[key];
  if (!head) {
    head = LensHead.create(engine.headWeights(), affine);
    head.catch(() => entry && delete entry[key]);
    entry[key] = head;
  }
  return head;
}

export interface LensGridOptions {
  /** Target id per token (-1: the model's own top-1 there). */
  targets: number[];
  k: number;
  lens?: AffineLens;
  /** Largest G·T·V per lens-head run (default 2^21); runs cover whole tokens. */
  chunkElements?: number;
}

/** Lens statistics for `states` (from `collectStates`); the last state is the model's output. */
export async function lensGrid(engine: Engine, states: Mat[], opts: LensGridOptions): Promise<{ grid: LensGrid; targets: number[] }> {
  const G = states.length;
  const T = states[0].rows;
  const d = states[0].cols;
  const { k, lens } = opts;
  if (lens && (lens.m.length !== G || lens.hidden !== d)) {
    throw new Error(`The ${lens.kind} lens was fitted for ${lens.m.length} layers of width ${lens.hidden}, not ${G} of width ${d}`);
  }
  const head = await lensHeadFor(engine, Boolean(lens));
  const V = head.vocab;
  const kk = Math.min(k, V);
  const grid: LensGrid = {
    lens: lens?.kind ?? 'logit',
    topIds: states.map(() => []),
    topProbs: states.map(() => []),
    entropy: states.map(() => []),
    kl: states.map(() => []),
    targetProb: states.map(() => []),
    targetRank: states.map(() => []),
  };
  const targets: number[] = [];
  const affine = lens ? { m: concat(lens.m), b: concat(lens.b) } : undefined;
  const chunk = Math.max(1, Math.floor((opts.chunkElements ?? CHUNK_ELEMENTS) / (G * V)));
  for (let t0 = 0; t0 < T; t0 += chunk) {
    const Tc = Math.min(chunk, T - t0);
    const buf = new Float32Array(G * Tc * d);
    states.forEach((s, g) => buf.set(s.data.subarray(t0 * d, (t0 + Tc) * d), g * Tc * d));
    const out = await head.run({ states: buf, groups: G, tokens: Tc, targets: opts.targets.slice(t0, t0 + Tc), k: kk, affine });
    for (let t = 0; t < Tc; t++) targets.push(opts.targets[t0 + t] >= 0 ? opts.targets[t0 + t] : out.finalTop1[t]);
    for (let g = 0; g < G; g++) {
      for (let t = 0; t < Tc; t++) {
        const i = g * Tc + t;
        grid.topIds[g].push(Array.from(out.topIds.subarray(i * kk, (i + 1) * kk)));
        grid.topProbs[g].push(Array.from(out.topLogp.subarray(i * kk, (i + 1) * kk), Math.exp));
        grid.entropy[g].push(Math.max(0, out.entropy[i]));
        grid.kl[g].push(out.kl[i]);
        grid.targetProb[g].push(Math.exp(out.targetLogp[i]));
        grid.targetRank[g].push(out.targetRank[i]);
      }
    }
  }
  return { grid, targets };
}

/** Default targets: each position's next prompt token; the model's own top-1 at the last position. */
export function nextTokenTargets(ids: ArrayLike<number>): number[] {
  return Array.from({ length: ids.length }, (_, t) => (t + 1 < ids.length ? ids[t + 1] : -1));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
