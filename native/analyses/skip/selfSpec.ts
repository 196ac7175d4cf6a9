// Self-speculative decoding as a user-facing run: resolve the drafting mode (fixed early exit, fixed
// skip set, SWIFT-style skip-set search on the prompt, DEL-style dynamic exit), measure plain greedy
// and self-speculative decoding side by side, and check losslessness.
import type { Engine } from '../../engine/api';
import type { DraftMode, SelfSpecResult, SpecToken } from '../../../protocol/skip';
import { lensStats } from './earlyExit';
import { mean } from './math';
import { earlyExitPlan, skipPlan } from './plans';
import { decode, DynamicExitPolicy, fixedPolicy, speculativeDecode, type DecodeOptions, type DraftPolicy } from './speculative';

export interface SelfSpecInput extends DecodeOptions {
  prompt: number[];
  mode: DraftMode;
  draftLength?: number | 'adaptive';
  onProgress?: (fraction: number, message: string) => void;
}

export type SelfSpecOutput = Omit<SelfSpecResult, 'analysis' | 'promptTokens' | 'text' | 'tokens'> & { tokens: Omit<SpecToken, 'text'>[] };

/** Tokens generated per candidate while searching a skip set. */
const SEARCH_TOKENS = 16;

export class BadDraftError extends Error {}

/** Checks a drafting mode against the model; throws BadDraftError with a readable message. */
export function checkMode(mode: DraftMode, numLayers: number): void {
  if (numLayers < 2) throw new BadDraftError('self-speculative decoding needs a model with at least 2 blocks');
  if (mode.kind === 'earlyExit' && !(Number.isInteger(mode.exitLayer) && mode.exitLayer >= 0 && mode.exitLayer < numLayers - 1)) {
    throw new BadDraftError(`exitLayer must be a block in 0..${numLayers - 2} (exiting after the last block is the full model)`);
  }
  if (mode.kind === 'skipSet') {
    const s = new Set(mode.skip);
    if (s.size === 0) throw new BadDraftError('the skip set is empty: the draft would be the full model');
    if (s.size >= numLayers) throw new BadDraftError('the skip set may not contain every block');
    for (const l of s) if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new BadDraftError(`block ${l} is not in 0..${numLayers - 1}`);
  }
  if (!['earlyExit', 'skipSet', 'searchSkipSet', 'dynamicExit'].includes(mode.kind)) throw new BadDraftError(`unknown drafting mode ${String((mode as { kind: unknown }).kind)}`);
}

/**
 * SWIFT-style training-free search: grow a skip set greedily, one block at a time, keeping the
 * addition that gives the highest measured self-speculative tokens/s on this prompt; stop when no
 * addition helps. Returns the best non-empty set found and every measurement.
 */
export async function searchSkipSet(engine: Engine, prompt: number[], opts: DecodeOptions & { draftLength?: number | 'adaptive'; onStep?: (done: number) => void }) {
  const L = engine.layerMap.numLayers;
  const candidates = L >= 3 ? Array.from({ length: L - 2 }, (_, i) => i + 1) : [0];
  const measure = { ...opts, maxNewTokens: Math.min(opts.maxNewTokens, SEARCH_TOKENS) };
  const log: { skip: number[]; tokensPerSec: number }[] = [];
  let current: number[] = [];
  let currentTps = -Infinity;
  let best: { skip: number[]; tokensPerSec: number } | undefined;
  for (;;) {
    let step: { skip: number[]; tokensPerSec: number } | undefined;
    for (const c of candidates) {
      if (current.includes(c) || current.length + 1 >= L) continue;
      const skip = [...current, c].sort((a, b) => a - b);
      const run = await speculativeDecode(engine, prompt, fixedPolicy(skipPlan(L, skip), opts.draftLength ?? 'adaptive'), measure);
      const entry = { skip, tokensPerSec: run.stats.tokensPerSec };
      log.push(entry);
      opts.onStep?.(log.length);
      if (!step || entry.tokensPerSec > step.tokensPerSec) step = entry;
    }
    if (!step) break;
    if (!best || step.tokensPerSec > best.tokensPerSec) best = step;
    if (step.tokensPerSec <= currentTps) break;
    current = step.skip;
    currentTps = step.tokensPerSec;
  }
  return { skip: best?.skip ?? [candidates[0]], log };
}

/** Acceptance each early-exit layer would have on the prompt itself (DEL's warm start). */
async function promptAcceptance(engine: Engine, prompt: number[], signal?: AbortSignal): Promise<number[]> {
  const stats = await lensStats(engine, prompt, undefined, signal);
  const L = engine.layerMap.numLayers;
  const final = stats.top1[L - 1];
  return stats.top1.slice(0, L - 1).map((r) => mean(r.map((v, t) => (v === final[t] ? 1 : 0))));
}

/** Plain greedy vs self-speculative decoding of the same prompt, measured in one run. */
export async function selfSpeculative(engine: Engine, input: SelfSpecInput): Promise<SelfSpecOutput> {
  const L = engine.layerMap.numLayers;
  checkMode(input.mode, L);
  if (input.prompt.length === 0) throw new BadDraftError('the prompt has no tokens');
  const draftLength = input.draftLength ?? 'adaptive';
  const progress = input.onProgress ?? (() => undefined);
  // Warm up both paths once so the first measured run does not pay session start-up costs.
  await decode(engine, input.prompt, { ...input, maxNewTokens: 2 });

  let policy: DraftPolicy;
  let draft = earlyExitPlan(L, 0);
  let searchLog: SelfSpecResult['searchLog'];
  const mode = input.mode;
  if (mode.kind === 'earlyExit') {
    draft = earlyExitPlan(L, mode.exitLayer);
    policy = fixedPolicy(draft, draftLength);
  } else if (mode.kind === 'skipSet') {
    draft = skipPlan(L, mode.skip);
    policy = fixedPolicy(draft, draftLength);
  } else if (mode.kind === 'searchSkipSet') {
    progress(0, 'searching a skip set');
    const found = await searchSkipSet(engine, input.prompt, { ...input, draftLength, onStep: (n) => progress(Math.min(0.5, n / (L * L)), `searching a skip set (${n} tried)`) });
    draft = skipPlan(L, found.skip);
    searchLog = found.log;
    policy = fixedPolicy(draft, draftLength);
  } else {
    policy = new DynamicExitPolicy(engine, draftLength, await promptAcceptance(engine, input.prompt, input.signal));
    draft = { name: 'dynamic exit', slots: earlyExitPlan(L, 0).slots };
  }

  progress(0.6, 'plain greedy decoding');
  const greedy = await decode(engine, input.prompt, input);
  progress(0.8, 'self-speculative decoding');
  const spec = await speculativeDecode(engine, input.prompt, policy, input);
  const greedyTps = (greedy.ids.length / greedy.ms) * 1000;
  const sampling = (input.temperature ?? 0) > 0;
  return {
    numLayers: L,
    ids: spec.ids,
    tokens: spec.tokens,
    draft,
    spec: spec.stats,
    greedy: { tokensPerSec: greedyTps, ids: greedy.ids },
    speedup: spec.stats.tokensPerSec / greedyTps,
    equalsGreedy: sampling ? undefined : spec.ids.length === greedy.ids.length && spec.ids.every((id, i) => id === greedy.ids[i]),
    exitLayers: mode.kind === 'dynamicExit' ? spec.exitLayers : undefined,
    searchLog,
  };
}
