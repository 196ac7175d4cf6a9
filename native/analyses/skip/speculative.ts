// Lossless self-speculative decoding: a cheaper version of the same model (exit after block E,
// LayerSkip / Kangaroo; or the model without a set of blocks, SWIFT) drafts tokens, the full model
// verifies all drafts in one forward over them with its KV cache, and the longest prefix matching the
// full model's greedy choice is kept (speculative sampling's rejection rule when sampling); caches
// are truncated after rejected drafts. DEL-style dynamic exit picks the exit layer and draft length
// per round from the acceptance each layer would have had, tracked on verified tokens.
import type { Engine, KvCache, Mat } from '../../engine/api';
import type { ExecutionPlan, TapName } from '../../../protocol';
import type { SpecToken, SelfSpecStats } from '../../../protocol/skip';
import { argmax, row, softmax } from './math';
import { earlyExitPlan } from './plans';

/** Tokens a draft may propose per round at most. */
export const MAX_DRAFT = 8;
/** Adaptive drafting stops when the draft's top probability falls below this (Kangaroo). */
export const DRAFT_CONFIDENCE = 0.6;

export interface DecodeOptions {
  maxNewTokens: number;
  /** 0/absent: greedy. */
  temperature?: number;
  seed?: number;
  eosTokenIds?: number[];
  signal?: AbortSignal;
}

/** Deterministic PRNG (mulberry32) so sampled runs are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(p: Float64Array, rand: () => number): number {
  let u = rand();
  for (let i = 0; i < p.length; i++) {
    u -= p[i];
    if (u < 0) return i;
  }
  return argmax(p);
}

/** Stops at maxNewTokens or after the first end-of-sequence token. Returns the kept tokens count. */
function keptLength(ids: number[], opts: DecodeOptions): number {
  const n = Math.min(ids.length, opts.maxNewTokens);
  const eos = opts.eosTokenIds ?? [];
  for (let i = 0; i < n; i++) if (eos.includes(ids[i])) return i + 1;
  return n;
}

/** True once maxNewTokens are out or an end-of-sequence token was produced. */
function finished(ids: number[], opts: DecodeOptions): boolean {
  return ids.length >= opts.maxNewTokens || ids.some((id) => opts.eosTokenIds?.includes(id));
}

/** Feeds the tokens of `seq` the cache does not hold yet, plus `extra`. */
async function feed(engine: Engine, cache: KvCache, seq: number[], extra: number[], plan: ExecutionPlan | undefined, logits: 'all' | 'last', taps?: TapName[], signal?: AbortSignal) {
  const ids = [...seq.slice(cache.length), ...extra];
  return engine.forward(ids, { plan, cache, logits, taps, signal });
}

/** Plain autoregressive decoding with the KV cache (greedy or sampled), under a plan. */
export async function decode(engine: Engine, prompt: number[], opts: DecodeOptions & { plan?: ExecutionPlan }): Promise<{ ids: number[]; ms: number }> {
  const t0 = performance.now();
  const cache = engine.newCache(opts.plan);
  const rand = rng(opts.seed ?? 0);
  const seq = [...prompt];
  const out: number[] = [];
  while (!finished(out, opts)) {
    opts.signal?.throwIfAborted();
    const { logits } = await feed(engine, cache, seq, [], opts.plan, 'last', undefined, opts.signal);
    const next = pick(row(logits!, 0), opts.temperature, rand);
    seq.push(next);
    out.push(next);
  }
  return { ids: out, ms: performance.now() - t0 };
}

function pick(logits: Float32Array, temperature: number | undefined, rand: () => number): number {
  return temperature && temperature > 0 ? sample(softmax(logits, temperature), rand) : argmax(logits);
}

/** Chooses the draft of each round and may learn from verified tokens. */
export interface DraftPolicy {
  next(): { plan: ExecutionPlan; maxDraft: number; adaptive: boolean; exitLayer?: number };
  /** Taps the verifier returns for `observe`. */
  readonly taps?: TapName[];
  /** Verified positions: rows of the verify call's taps and the token the full model chose at each. */
  observe?(taps: Map<TapName, Mat>, rows: number[], targets: number[]): Promise<void>;
}

/** A fixed draft plan (early exit after E, or a skip set). */
export function fixedPolicy(plan: ExecutionPlan, draftLength: number | 'adaptive'): DraftPolicy {
  const adaptive = draftLength === 'adaptive';
  const maxDraft = adaptive ? MAX_DRAFT : Math.max(1, Math.min(MAX_DRAFT * 4, Math.floor(draftLength)));
  return { next: () => ({ plan, maxDraft, adaptive, exitLayer: plan.exitAfter }) };
}

/**
 * DEL-style policy: tracks, per exit layer, how often the logit lens at that layer would have drafted
 * the token the full model chose (exponential moving average over verified tokens), and each round
 * picks the exit layer and draft length maximising expected tokens per unit of compute.
 */
export class DynamicExitPolicy implements DraftPolicy {
  readonly taps: TapName[];
  private readonly acceptance: number[];

  constructor(private readonly engine: Engine, private readonly draftLength: number | 'adaptive', initial?: number[], private readonly decay = 0.9) {
    const L = engine.layerMap.numLayers;
    this.taps = Array.from({ length: L - 1 }, (_, l) => `blocks.${l}.resid_post` as TapName);
    this.acceptance = initial ?? Array.from({ length: L - 1 }, (_, l) => (l + 1) / L);
  }

  /** Current acceptance estimate per exit layer 0..L-2. */
  get rates(): number[] {
    return [...this.acceptance];
  }

  next() {
    const L = this.engine.layerMap.numLayers;
    let best = { exitLayer: 0, k: 1, value: -Infinity };
    for (let e = 0; e < L - 1; e++) {
      const a = Math.min(0.99, Math.max(0.01, this.acceptance[e]));
      const ks = typeof this.draftLength === 'number' ? [this.draftLength] : Array.from({ length: MAX_DRAFT }, (_, i) => i + 1);
      for (const k of ks) {
        const expected = (1 - a ** (k + 1)) / (1 - a);
        const cost = (k * (e + 1)) / L + 1;
        if (expected / cost > best.value) best = { exitLayer: e, k, value: expected / cost };
      }
    }
    return { plan: earlyExitPlan(L, best.exitLayer), maxDraft: best.k, adaptive: false, exitLayer: best.exitLayer };
  }

  async observe(taps: Map<TapName, Mat>, rows: number[], targets: number[]): Promise<void> {
    for (let l = 0; l < this.taps.length; l++) {
      const tap = taps.get(this.taps[l]);
      if (!tap) continue;
      const sub: Mat = { data: new Float32Array(rows.length * tap.cols), rows: rows.length, cols: tap.cols };
      rows.forEach((r, i) => sub.data.set(row(tap, r), i * tap.cols));
      const logits = await this.engine.head(sub);
      for (let i = 0; i < rows.length; i++) {
        const hit = argmax(row(logits, i)) === targets[i] ? 1 : 0;
        this.acceptance[l] = this.decay * this.acceptance[l] + (1 - this.decay) * hit;
      }
    }
  }
}

export interface SpecRun {
  ids: number[];
  tokens: Omit<SpecToken, 'text'>[];
  stats: SelfSpecStats;
  exitLayers: number[];
}

const planKey = (p: ExecutionPlan) => JSON.stringify([p.slots, p.exitAfter]);

/** Self-speculative decoding of up to `maxNewTokens` after `prompt`. */
export async function speculativeDecode(engine: Engine, prompt: number[], policy: DraftPolicy, opts: DecodeOptions): Promise<SpecRun> {
  if (prompt.length === 0) throw new Error('the prompt has no tokens');
  const t0 = performance.now();
  const rand = rng(opts.seed ?? 0);
  const sampling = (opts.temperature ?? 0) > 0;
  const full = engine.newCache();
  const draftCaches = new Map<string, KvCache>();
  const seq = [...prompt];
  const out: number[] = [];
  const tokens: SpecRun['tokens'] = [];
  const exitLayers: number[] = [];
  let draftMs = 0;
  let verifyMs = 0;
  let drafted = 0;
  let accepted = 0;
  let rounds = 0;

  const tv = performance.now();
  const first = await feed(engine, full, seq, [], undefined, 'last', undefined, opts.signal);
  verifyMs += performance.now() - tv;
  const firstId = pick(row(first.logits!, 0), opts.temperature, rand);
  seq.push(firstId);
  out.push(firstId);
  tokens.push({ id: firstId, origin: 'corrected', round: 0 });

  while (!finished(out, opts)) {
    opts.signal?.throwIfAborted();
    rounds++;
    const choice = policy.next();
    if (choice.exitLayer !== undefined) exitLayers.push(choice.exitLayer);
    const key = planKey(choice.plan);
    if (!draftCaches.has(key)) draftCaches.set(key, engine.newCache(choice.plan));
    const dcache = draftCaches.get(key)!;
    const maxDraft = Math.min(choice.maxDraft, opts.maxNewTokens - out.length);

    // Draft.
    const td = performance.now();
    const drafts: number[] = [];
    const q: Float64Array[] = [];
    let pending = seq.slice(dcache.length);
    while (drafts.length < maxDraft) {
      const { logits } = await engine.forward(pending, { plan: choice.plan, cache: dcache, logits: 'last', signal: opts.signal });
      const l = row(logits!, 0);
      let d: number;
      if (sampling) {
        const p = softmax(l, opts.temperature);
        d = sample(p, rand);
        q.push(p);
      } else {
        d = argmax(l);
      }
      drafts.push(d);
      pending = [d];
      if (choice.adaptive && Math.max(...softmax(l)) < DRAFT_CONFIDENCE) break;
    }
    draftMs += performance.now() - td;
    drafted += drafts.length;

    // Verify all drafts in one forward of the full model.
    const tver = performance.now();
    const base = seq.length - full.length - 1; // row of the last committed token
    const ver = await feed(engine, full, seq, drafts, undefined, 'all', policy.taps, opts.signal);
    verifyMs += performance.now() - tver;
    const logits = ver.logits!;
    let n = 0;
    let next = -1;
    for (; n < drafts.length; n++) {
      const l = row(logits, base + n);
      if (sampling) {
        const p = softmax(l, opts.temperature);
        const d = drafts[n];
        if (rand() < Math.min(1, p[d] / q[n][d])) continue;
        const residual = p.map((v, i) => Math.max(0, v - q[n][i]));
        const z = residual.reduce((s, v) => s + v, 0);
        next = z > 0 ? sample(residual.map((v) => v / z), rand) : sample(p, rand);
        break;
      }
      if (argmax(l) !== drafts[n]) break;
    }
    if (next < 0) next = pick(row(logits, base + n), opts.temperature, rand);
    accepted += n;

    const committed = seq.length;
    for (let i = 0; i < n; i++) tokens.push({ id: drafts[i], origin: 'accepted', round: rounds });
    tokens.push({ id: next, origin: 'corrected', round: rounds });
    seq.push(...drafts.slice(0, n), next);
    out.push(...drafts.slice(0, n), next);
    // Roll back rejected drafts: caches keep the committed tokens and the accepted drafts only.
    full.truncate(Math.min(full.length, committed + n));
    dcache.truncate(Math.min(dcache.length, committed + n));
    if (policy.observe) {
      const rows = Array.from({ length: n + 1 }, (_, i) => base + i);
      await policy.observe(ver.taps, rows, [...drafts.slice(0, n), next]);
    }
  }
  const kept = keptLength(out, opts);
  const ms = performance.now() - t0;
  return {
    ids: out.slice(0, kept),
    tokens: tokens.slice(0, kept),
    exitLayers,
    stats: {
      rounds,
      drafted,
      accepted,
      acceptanceRate: drafted ? accepted / drafted : 0,
      meanAcceptedLength: rounds ? accepted / rounds : 0,
      draftMs,
      verifyMs,
      tokensPerSec: (kept / ms) * 1000,
    },
  };
}
