// Layer sweep: run many modified plans (skip a block, skip a sublayer, swap neighbours, repeat a
// block, skip a span) over one or more texts and score each against the unmodified model.
// Prefix reuse: the unmodified pass is run once per text with the stage primitives; each plan starts
// from the residual after the blocks it shares with the unmodified model.
import type { Engine, Mat, StageState } from '../../engine/api';
import type { SkipSweepResult, SweepEntry, SweepOptions } from '../../../protocol/skip';
import { lensGrid, nextTokenTargets } from '../decode/lens';
import { lastSlot, sharedPrefix, sweepPlans, type SweepPlan } from './plans';
import { SublayerAccumulator, type BlockTrace } from './sublayer';

export interface SweepInput {
  /** Token ids of each text; the first is "the prompt" (per-token results and the answer refer to it). */
  texts: number[][];
  /** Token index in the first text of the answer token (>= 1). */
  answerIndex?: number;
  options?: SweepOptions;
  signal?: AbortSignal;
  /** Called after each plan of each text with the running entries. */
  onProgress?: (fraction: number, entries: SweepEntry[]) => void;
  tokenText?: (id: number) => string;
}

export type SweepOutput = Omit<SkipSweepResult, 'analysis' | 'tokens' | 'elapsedMs'>;

/** Result of the unmodified pass over one text: states after 0..L blocks and the block traces. */
interface BasePass {
  states: StageState[];
  traces: BlockTrace[];
}

/** Runs the unmodified model block by block, keeping every intermediate state. */
export async function basePass(engine: Engine, ids: number[], signal?: AbortSignal): Promise<BasePass> {
  const L = engine.layerMap.numLayers;
  const states: StageState[] = [await engine.begin(ids)];
  const traces: BlockTrace[] = [];
  for (let l = 0; l < L; l++) {
    signal?.throwIfAborted();
    const out = await engine.runSlot(states[l], { layer: l }, l);
    states.push(out.state);
    traces.push({ residPre: states[l].residual, residPost: out.state.residual, residMid: out.residMid, attnOut: out.attnOut, mlpOut: out.mlpOut });
  }
  return { states, traces };
}

/** Runs `plan` from the shared prefix state; returns its final residual and the number of slots evaluated. */
export async function runFromPrefix(engine: Engine, base: BasePass, p: SweepPlan['plan'], signal?: AbortSignal): Promise<{ residual: Mat; slots: number }> {
  const k = Math.min(sharedPrefix(p), lastSlot(p) + 1);
  let state = base.states[k];
  const end = lastSlot(p);
  for (let j = k; j <= end; j++) {
    signal?.throwIfAborted();
    state = (await engine.runSlot(state, p.slots[j], j)).state;
  }
  return { residual: state.residual, slots: end + 1 - k };
}

/** Running sums of one plan's metrics over texts. */
interface Acc {
  sp: SweepPlan;
  ce: number;
  kl: number;
  agree: number;
  cePositions: number;
  klPositions: number;
  klPerToken: number[];
  answer?: SweepEntry['answer'];
}

/** Plans whose final states are scored together in one lens-head call. */
const PLANS_PER_BATCH = 8;

/**
 * The sweep. Each plan's final residual goes through the model's final norm and unembedding in the
 * ORT lens head (native/analyses/decode/lensHead.ts), batched with the unmodified output as the
 * reference, so only KL / target log-prob / top-1 per token come back. Throws when aborted.
 */
export async function layerSweep(engine: Engine, input: SweepInput): Promise<SweepOutput> {
  const { layerMap } = engine;
  const L = layerMap.numLayers;
  const texts = input.texts.filter((t) => t.length > 0);
  if (texts.length === 0) throw new Error('nothing to sweep: the text has no tokens');
  const plans = sweepPlans(L, input.options ?? {}, (l) => layerMap.blocks[l]?.sublayersSeparable ?? false);
  const accs: Acc[] = plans.map((sp) => ({ sp, ce: 0, kl: 0, agree: 0, cePositions: 0, klPositions: 0, klPerToken: [] }));
  const sublayer = new SublayerAccumulator(L);
  let baseCe = 0;
  let cePositions = 0;
  let slotEvals = 0;
  const answerIndex = input.answerIndex;
  const total = texts.length * plans.length;
  let done = 0;

  for (let ti = 0; ti < texts.length; ti++) {
    const ids = texts[ti];
    const T = ids.length;
    const base = await basePass(engine, ids, input.signal);
    slotEvals += L;
    sublayer.add(base.traces);
    const targets = nextTokenTargets(ids);
    const reference = base.states[L].residual;

    for (let b0 = 0; b0 < accs.length; b0 += PLANS_PER_BATCH) {
      const batch = accs.slice(b0, b0 + PLANS_PER_BATCH);
      const residuals: Mat[] = [];
      for (const acc of batch) {
        input.signal?.throwIfAborted();
        const run = await runFromPrefix(engine, base, acc.sp.plan, input.signal);
        slotEvals += run.slots;
        residuals.push(run.residual);
      }
      const { grid } = await lensGrid(engine, [...residuals, reference], { targets, k: 1 });
      const G = batch.length;
      if (b0 === 0) for (let t = 0; t + 1 < T; t++) baseCe -= Math.log(grid.targetProb[G][t]);
      batch.forEach((acc, g) => {
        for (let t = 0; t < T; t++) {
          const kl = grid.kl[g][t];
          const top1 = grid.topIds[g][t][0];
          acc.kl += kl;
          if (top1 === grid.topIds[G][t][0]) acc.agree++;
          if (t + 1 < T) acc.ce -= Math.log(grid.targetProb[g][t]);
          if (ti === 0) acc.klPerToken.push(kl);
        }
        if (ti === 0 && answerIndex !== undefined) {
          const t = answerIndex - 1;
          const top1Id = grid.topIds[g][t][0];
          acc.answer = {
            tokenId: ids[answerIndex],
            baseLogprob: Math.log(grid.targetProb[G][t]),
            logprob: Math.log(grid.targetProb[g][t]),
            rank: grid.targetRank[g][t],
            top1Id,
            top1Text: input.tokenText?.(top1Id) ?? String(top1Id),
          };
        }
        acc.cePositions += T - 1;
        acc.klPositions += T;
      });
      done += batch.length;
      input.onProgress?.(done / total, accs.filter((a) => a.klPositions > 0).map(entryOf));
    }
    cePositions += T - 1;
  }
  return {
    numLayers: L,
    texts: texts.length,
    answerIndex,
    positions: cePositions,
    baseCe: cePositions > 0 ? baseCe / cePositions : NaN,
    entries: accs.map(entryOf),
    sublayer: sublayer.result(),
    forwardEquivalents: slotEvals / L / texts.length,
  };
}

function entryOf(a: Acc): SweepEntry {
  return {
    kind: a.sp.kind,
    layers: a.sp.layers,
    plan: a.sp.plan,
    label: a.sp.plan.name ?? a.sp.kind,
    ce: a.cePositions > 0 ? a.ce / a.cePositions : NaN,
    kl: a.kl / a.klPositions,
    top1: a.agree / a.klPositions,
    klPerToken: a.klPerToken,
    answer: a.answer,
  };
}
