// Lossless self-speculative decoding: a cheaper version of the same model (exit after block E,
// LayerSkip / Kangaroo; or the model without a set of blocks, SWIFT) drafts tokens, the full model
// verifies all drafts in one forward over them with its KV cache, and the longest prefix matching the
// full model's greedy choice is kept (speculative sampling's rejection rule when sampling); caches
// are truncated after rejected drafts. DEL-style dynamic exit picks the exit layer and draft length
// per round from the acceptance each layer would have had, tracked on verified tokens.
import type { Engine, KvCache, Mat } from '../../engine/api';
import { isIdentityPlan, type ExecutionPlan, type TapName } from '../../../protocol';
import type { SpecToken, SelfSpecStats } from '../../../protocol/skip';
import { argmax, row, softmax } from './math';
import { earlyExitPlan } from './plans';
import { rng } from '../../util/random';

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

/**
 * Full-model logits of `ids` after what `cache` holds: the monolithic session (one session run, the
 * fastest plain path) unless taps are wanted, which need the stage-wise forward.
 */
async function fullForward(engine: Engine, ids: number[], cache: KvCache, taps: TapName[] | undefined, signal?: AbortSignal): Promise<{ logits: Mat; taps: Map<TapName, Mat> }> {
  if (taps?.length) {
    const res = await engine.forward(ids, { cache, logits: 'all', taps, signal });
    return { logits: res.logits!, taps: res.taps };
  }
  return { logits: await engine.forwardMonolithic(ids, { cache, signal }), taps: new Map() };
}

/** Plain autoregressive decoding with the KV cache (greedy or sampled), under a plan (the monolithic model when none). */
export async function decode(engine: Engine, prompt: number[], opts: DecodeOptions & { plan?: ExecutionPlan }): Promise<{ ids: number[]; ms: number }> {
  const t0 = performance.now();
  const plan = opts.plan && !isIdentityPlan(opts.plan, engine.layerMap.numLayers) ? opts.plan : undefined;
  const cache = engine.newCache(plan);
  const rand = rng(opts.seed ?? 0);
  const seq = [...prompt];
  const out: number[] = [];
  while (!finished(out, opts)) {
    opts.signal?.throwIfAborted();
    const ids = seq.slice(cache.length);
    const logits = plan ? (await engine.forward(ids, { plan, cache, logits: 'last', signal: opts.signal })).logits! : (await fullForward(engine, ids, cache, undefined, opts.signal)).logits;
    const next = pick(row(logits, logits.rows - 1), opts.temperature, rand);
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
class FixedPolicy implements DraftPolicy {
  private readonly maxDraft: number;
  private readonly adaptive: boolean;

  constructor(readonly plan: ExecutionPlan, draftLength: number | 'adaptive') {
    this.adaptive = draftLength === 'adaptive';
    this.maxDraft = this.adaptive ? MAX_DRAFT : Math.max(1, Math.min(MAX_DRAFT * 4, Math.floor(draftLength as number)));
  }

  next() {
    return { plan: this.plan, maxDraft: this.maxDraft, adaptive: this.adaptive, exitLayer: this.plan.exitAfter };
  }
}

export function fixedPolicy(plan: ExecutionPlan, draftLength: number | 'adaptive'): DraftPolicy {
  return new FixedPolicy(plan, draftLength);
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
  /** Whether the early-exit draft shared its KV cache and exit residuals with verification. */
  sharedCache: boolean;
}

/** One round's drafts and, when sampling, the draft distribution of each. */
interface Drafted {
  drafts: number[];
  q: Float64Array[];
}

/** How drafts are produced and verified: with separate caches, or sharing the early-exit prefix. */
interface Rounds {
  /** Runs the prompt through the full model; returns the last position's logits. */
  prefill(prompt: number[]): Promise<Float32Array>;
  draft(seq: number[], choice: ReturnType<DraftPolicy['next']>, pickDraft: (logits: Float32Array, q: Float64Array[]) => number): Promise<Drafted>;
  /** Full-model logits for the last committed token and each draft, [k+1, V], and the verify taps. */
  verify(seq: number[], drafts: number[], taps?: TapName[]): Promise<{ logits: Mat; taps: Map<TapName, Mat> }>;
  /** Keep only the first `length` tokens in every cache. */
  rollback(length: number): void;
}

const planKey = (p: ExecutionPlan) => JSON.stringify([p.slots, p.exitAfter]);

/** Draft plans keep their own caches; verification is a full forward with the full model's cache. */
class SeparateRounds implements Rounds {
  private readonly full: KvCache;
  private readonly drafts = new Map<string, KvCache>();

  constructor(private readonly engine: Engine, private readonly signal?: AbortSignal) {
    this.full = engine.newCache();
  }

  async prefill(prompt: number[]) {
    const { logits } = await fullForward(this.engine, prompt, this.full, undefined, this.signal);
    return row(logits, logits.rows - 1);
  }

  async draft(seq: number[], choice: ReturnType<DraftPolicy['next']>, pickDraft: (l: Float32Array, q: Float64Array[]) => number): Promise<Drafted> {
    const key = planKey(choice.plan);
    if (!this.drafts.has(key)) this.drafts.set(key, this.engine.newCache(choice.plan));
    const cache = this.drafts.get(key)!;
    const out: Drafted = { drafts: [], q: [] };
    let pending = seq.slice(cache.length);
    while (out.drafts.length < choice.maxDraft) {
      const { logits } = await this.engine.forward(pending, { plan: choice.plan, cache, logits: 'last', signal: this.signal });
      const l = row(logits!, 0);
      const d = pickDraft(l, out.q);
      out.drafts.push(d);
      pending = [d];
      if (choice.adaptive && Math.max(...softmax(l)) < DRAFT_CONFIDENCE) break;
    }
    return out;
  }

  async verify(seq: number[], drafts: number[], taps?: TapName[]) {
    const ids = [...seq.slice(this.full.length), ...drafts];
    const res = await fullForward(this.engine, ids, this.full, taps, this.signal);
    const logits = res.logits;
    const first = logits.rows - drafts.length - 1;
    return { logits: { data: logits.data.subarray(first * logits.cols), rows: drafts.length + 1, cols: logits.cols }, taps: res.taps };
  }

  rollback(length: number) {
    for (const c of [this.full, ...this.drafts.values()]) c.truncate(Math.min(c.length, length));
  }
}

/**
 * LayerSkip-style shared early exit: blocks 0..E keep one cache used by both drafting and
 * verification, and verification starts from the exit residuals the draft already computed, so it
 * only runs blocks E+1..L-1 over the drafts (plus blocks 0..E once for the last draft).
 */
class SharedExitRounds implements Rounds {
  private readonly lower: KvCache;
  private readonly upper: KvCache;
  /** Exit residual rows of tokens in `lower` but not yet in `upper`. */
  private pending: Mat[] = [];

  constructor(private readonly engine: Engine, private readonly exitLayer: number, private readonly signal?: AbortSignal) {
    this.lower = engine.newCache();
    this.upper = engine.newCache();
  }

  private async runLower(ids: number[]): Promise<Mat> {
    let state = await this.engine.begin(ids, { cache: this.lower });
    for (let i = 0; i <= this.exitLayer; i++) {
      this.signal?.throwIfAborted();
      state = (await this.engine.runSlot(state, { layer: i }, i)).state;
    }
    this.pending.push(state.residual);
    return state.residual;
  }

  private async runUpper(ids: number[]): Promise<Mat> {
    const resid = concatRows(this.pending);
    this.pending = [];
    let state = (await this.engine.begin(ids, { cache: this.upper })).withResidual(resid);
    for (let i = this.exitLayer + 1; i < this.engine.layerMap.numLayers; i++) {
      this.signal?.throwIfAborted();
      state = (await this.engine.runSlot(state, { layer: i }, i)).state;
    }
    return this.engine.head(state.residual);
  }

  async prefill(prompt: number[]) {
    await this.runLower(prompt);
    const logits = await this.runUpper(prompt);
    return row(logits, logits.rows - 1);
  }

  async draft(seq: number[], choice: ReturnType<DraftPolicy['next']>, pickDraft: (l: Float32Array, q: Float64Array[]) => number): Promise<Drafted> {
    const out: Drafted = { drafts: [], q: [] };
    let pending = seq.slice(this.lower.length);
    while (out.drafts.length < choice.maxDraft) {
      const resid = await this.runLower(pending);
      const l = row(await this.engine.head(lastRow(resid)), 0);
      const d = pickDraft(l, out.q);
      out.drafts.push(d);
      pending = [d];
      if (choice.adaptive && Math.max(...softmax(l)) < DRAFT_CONFIDENCE) break;
    }
    // The last draft needs its exit residual too, for verification.
    await this.runLower(pending);
    return out;
  }

  async verify(seq: number[], drafts: number[]) {
    const logits = await this.runUpper([...seq.slice(this.upper.length), ...drafts]);
    const first = logits.rows - drafts.length - 1;
    return { logits: { data: logits.data.subarray(first * logits.cols), rows: drafts.length + 1, cols: logits.cols }, taps: new Map<TapName, Mat>() };
  }

  rollback(length: number) {
    for (const c of [this.lower, this.upper]) c.truncate(Math.min(c.length, length));
    this.pending = [];
  }
}

function lastRow(m: Mat): Mat {
  return { data: m.data.slice((m.rows - 1) * m.cols), rows: 1, cols: m.cols };
}

function concatRows(ms: Mat[]): Mat {
  const cols = ms[0].cols;
  const data = new Float32Array(ms.reduce((n, m) => n + m.data.length, 0));
  let o = 0;
  for (const m of ms) {
    data.set(m.data, o);
    o += m.data.length;
  }
  return { data, rows: data.length / cols, cols };
}

/** The exit layer of a fixed early-exit policy whose draft is the unmodified model's first blocks. */
function sharedExitLayer(engine: Engine, policy: DraftPolicy): number | undefined {
  if (!(policy instanceof FixedPolicy) || !engine.layerMap.hasKvCache) return undefined;
  const { plan } = policy;
  const E = plan.exitAfter;
  if (E === undefined || (plan.patches?.length ?? 0) > 0) return undefined;
  for (let i = 0; i <= E; i++) {
    const s = plan.slots[i];
    if (s.layer !== i || s.attn === false || s.mlp === false) return undefined;
  }
  return E;
}

/**
 * Self-speculative decoding of up to `maxNewTokens` after `prompt`. A fixed early-exit draft shares
 * its cache with verification (LayerSkip) unless `shareExitCache` is false.
 */
export async function speculativeDecode(engine: Engine, prompt: number[], policy: DraftPolicy, opts: DecodeOptions & { shareExitCache?: boolean }): Promise<SpecRun> {
  if (prompt.length === 0) throw new Error('the prompt has no tokens');
  const t0 = performance.now();
  const rand = rng(opts.seed ?? 0);
  const sampling = (opts.temperature ?? 0) > 0;
  const exit = opts.shareExitCache === false ? undefined : sharedExitLayer(engine, policy);
  const rounds: Rounds = exit !== undefined ? new SharedExitRounds(engine, exit, opts.signal) : new SeparateRounds(engine, opts.signal);
  const seq = [...prompt];
  const out: number[] = [];
  const tokens: SpecRun['tokens'] = [];
  const exitLayers: number[] = [];
  let draftMs = 0;
  let verifyMs = 0;
  let drafted = 0;
  let accepted = 0;
  let round = 0;
  const pickDraft = (l: Float32Array, q: Float64Array[]) => {
    if (!sampling) return argmax(l);
    const p = softmax(l, opts.temperature);
    q.push(p);
    return sample(p, rand);
  };

  const tv = performance.now();
  const firstId = pick(await rounds.prefill(seq), opts.temperature, rand);
  verifyMs += performance.now() - tv;
  seq.push(firstId);
  out.push(firstId);
  tokens.push({ id: firstId, origin: 'corrected', round: 0 });

  while (!finished(out, opts)) {
    opts.signal?.throwIfAborted();
    round++;
    const next = policy.next();
    if (next.exitLayer !== undefined) exitLayers.push(next.exitLayer);
    const choice = { ...next, maxDraft: Math.min(next.maxDraft, opts.maxNewTokens - out.length) };

    const td = performance.now();
    const { drafts, q } = await rounds.draft(seq, choice, pickDraft);
    draftMs += performance.now() - td;
    drafted += drafts.length;

    const tver = performance.now();
    const ver = await rounds.verify(seq, drafts, policy.taps);
    verifyMs += performance.now() - tver;
    let n = 0;
    let corrected = -1;
    for (; n < drafts.length; n++) {
      const l = row(ver.logits, n);
      if (!sampling) {
        if (argmax(l) !== drafts[n]) break;
        continue;
      }
      // Speculative sampling: accept with min(1, p/q), else resample from max(0, p - q).
      const p = softmax(l, opts.temperature);
      const d = drafts[n];
      if (rand() < Math.min(1, p[d] / q[n][d])) continue;
      const residual = p.map((v, i) => Math.max(0, v - q[n][i]));
      const z = residual.reduce((a, v) => a + v, 0);
      corrected = z > 0 ? sample(residual.map((v) => v / z), rand) : sample(p, rand);
      break;
    }
    if (corrected < 0) corrected = pick(row(ver.logits, n), opts.temperature, rand);
    accepted += n;

    const committed = seq.length;
    for (let i = 0; i < n; i++) tokens.push({ id: drafts[i], origin: 'accepted', round });
    tokens.push({ id: corrected, origin: 'corrected', round });
    seq.push(...drafts.slice(0, n), corrected);
    out.push(...drafts.slice(0, n), corrected);
    // Roll back rejected drafts: caches keep the committed tokens and the accepted drafts only.
    rounds.rollback(committed + n);
    if (policy.observe) {
      const base = ver.logits.rows - drafts.length - 1;
      const tapRows = (ver.taps.values().next().value?.rows ?? 0) - drafts.length - 1;
      await policy.observe(ver.taps, Array.from({ length: n + 1 }, (_, i) => Math.max(base, tapRows) + i), [...drafts.slice(0, n), corrected]);
    }
  }
  const kept = keptLength(out, opts);
  const ms = performance.now() - t0;
  return {
    ids: out.slice(0, kept),
    tokens: tokens.slice(0, kept),
    exitLayers,
    sharedCache: exit !== undefined,
    stats: {
      rounds: round,
      drafted,
      accepted,
      acceptanceRate: drafted ? accepted / drafted : 0,
      meanAcceptedLength: round ? accepted / round : 0,
      draftMs,
      verifyMs,
      tokensPerSec: (kept / ms) * 1000,
    },
  };
}
