// Early-exit simulator (CALM / DEL / SkipDecode style): per token, the first block at which a
// confidence rule on a lens fires, and the trade-off curve of blocks used vs agreement with the full
// model's greedy token. The lens is a parameter (logit lens by default).
import type { Engine, Mat } from '../../engine/api';
import type { EarlyExitResult, ExitRule, ExitRuleResult } from '../../../protocol/skip';
import { argmax, entropyLog, logSoftmax, row } from './math';
import { lensGrid } from '../decode/lens';
import { basePass } from './sweep';

/** Maps block `layer`'s output residual [T, d] to logits [T, V]. */
export type Lens = (layer: number, residual: Mat) => Promise<Mat>;


/** Per layer and token lens statistics, [layer][token]. */
export interface LensStats {
  maxProb: number[][];
  entropy: number[][];
  top1: number[][];
}

export const DEFAULT_THRESHOLDS = (numLayers: number): Record<ExitRule, number[]> => ({
  maxProb: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
  entropy: [4, 3, 2, 1.5, 1, 0.75, 0.5, 0.25, 0.1],
  stable: Array.from({ length: numLayers }, (_, i) => i + 1),
});

/** First block (0-based) at which `rule` with threshold `tau` fires for token t; the last block when none. */
export function exitLayer(stats: LensStats, rule: ExitRule, tau: number, t: number): number {
  const L = stats.top1.length;
  for (let l = 0; l < L; l++) {
    if (rule === 'maxProb' && stats.maxProb[l][t] >= tau) return l;
    if (rule === 'entropy' && stats.entropy[l][t] <= tau) return l;
    if (rule === 'stable' && l + 1 >= tau) {
      let same = true;
      for (let j = l - tau + 1; j < l && same; j++) same = stats.top1[j][t] === stats.top1[l][t];
      if (same) return l;
    }
  }
  return L - 1;
}

/** The curve and exit map of one rule over its thresholds. */
export function exitRuleResult(stats: LensStats, rule: ExitRule, thresholds: number[]): ExitRuleResult {
  const L = stats.top1.length;
  const T = stats.top1[0]?.length ?? 0;
  const final = stats.top1[L - 1];
  const exitLayers = thresholds.map((tau) => Array.from({ length: T }, (_, t) => exitLayer(stats, rule, tau, t)));
  const curve = thresholds.map((threshold, i) => {
    let layers = 0;
    let agree = 0;
    for (let t = 0; t < T; t++) {
      const e = exitLayers[i][t];
      layers += e + 1;
      if (stats.top1[e][t] === final[t]) agree++;
    }
    return { threshold, avgLayers: T ? layers / T : NaN, agreement: T ? agree / T : NaN };
  });
  return { rule, curve, exitLayers };
}

/**
 * Lens statistics for every block output of the unmodified model: with the logit lens (default) in
 * the ORT lens head (one call, nothing vocab-sized in JS), else through `lens`.
 */
export async function lensStats(engine: Engine, ids: number[], lens?: Lens, signal?: AbortSignal): Promise<LensStats> {
  const base = await basePass(engine, ids, signal);
  const L = engine.layerMap.numLayers;
  if (!lens) {
    const states = base.states.slice(1).map((s) => s.residual);
    const { grid } = await lensGrid(engine, states, { targets: ids.map(() => -1), k: 1 });
    return { maxProb: grid.topProbs.map((r) => r.map((c) => c[0])), entropy: grid.entropy, top1: grid.topIds.map((r) => r.map((c) => c[0])) };
  }
  const stats: LensStats = { maxProb: [], entropy: [], top1: [] };
  for (let l = 0; l < L; l++) {
    signal?.throwIfAborted();
    const logits = await lens(l, base.states[l + 1].residual);
    const mp: number[] = [];
    const ent: number[] = [];
    const top: number[] = [];
    for (let t = 0; t < ids.length; t++) {
      const lp = logSoftmax(row(logits, t));
      const a = argmax(lp);
      top.push(a);
      mp.push(Math.exp(lp[a]));
      ent.push(entropyLog(lp));
    }
    stats.maxProb.push(mp);
    stats.entropy.push(ent);
    stats.top1.push(top);
  }
  return stats;
}

export interface EarlyExitInput {
  ids: number[];
  thresholds?: Partial<Record<ExitRule, number[]>>;
  /** Default: the logit lens (final norm + unembedding). */
  lens?: Lens;
  signal?: AbortSignal;
}

/** The simulator over the three rules. */
export async function earlyExit(engine: Engine, input: EarlyExitInput): Promise<Omit<EarlyExitResult, 'analysis' | 'tokens' | 'elapsedMs'>> {
  if (input.ids.length === 0) throw new Error('nothing to analyse: the text has no tokens');
  const L = engine.layerMap.numLayers;
  const stats = await lensStats(engine, input.ids, input.lens, input.signal);
  const defaults = DEFAULT_THRESHOLDS(L);
  const rules = (Object.keys(defaults) as ExitRule[]).map((rule) => exitRuleResult(stats, rule, input.thresholds?.[rule] ?? defaults[rule]));
  const final = stats.top1[L - 1];
  return {
    numLayers: L,
    maxProb: stats.maxProb,
    entropy: stats.entropy,
    agreesWithFinal: stats.top1.map((r) => r.map((v, t) => (v === final[t] ? 1 : 0))),
    rules,
  };
}
