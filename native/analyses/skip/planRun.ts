// A custom plan against the unmodified model: per-token KL on the prompt, top-1 agreement,
// cross-entropy, and the greedy continuation of both.
import type { Engine } from '../../engine/api';
import type { ExecutionPlan, PlanRunResult } from '../../../protocol';
import { argmax, klLog, logSoftmax, row } from './math';
import { planProblem } from './plans';
import { decode } from './speculative';

export class BadPlanError extends Error {}

export interface PlanRunInput {
  ids: number[];
  plan: ExecutionPlan;
  maxNewTokens: number;
  eosTokenIds?: number[];
  signal?: AbortSignal;
}

export type PlanRunOutput = Omit<PlanRunResult, 'analysis' | 'tokens' | 'original' | 'modified'> & { original: number[]; modified: number[] };

export async function runPlan(engine: Engine, input: PlanRunInput): Promise<PlanRunOutput> {
  const problem = planProblem(input.plan, engine.layerMap.numLayers);
  if (problem) throw new BadPlanError(problem);
  const { ids, plan } = input;
  if (ids.length === 0) throw new BadPlanError('the prompt has no tokens');
  const base = (await engine.forward(ids, { signal: input.signal })).logits!;
  const mod = (await engine.forward(ids, { plan, signal: input.signal })).logits!;
  const klPerToken: number[] = [];
  let agree = 0;
  let baseCe = 0;
  let ce = 0;
  for (let t = 0; t < ids.length; t++) {
    const p = logSoftmax(row(base, t));
    const q = logSoftmax(row(mod, t));
    klPerToken.push(klLog(p, q));
    if (argmax(p) === argmax(q)) agree++;
    if (t + 1 < ids.length) {
      baseCe -= p[ids[t + 1]];
      ce -= q[ids[t + 1]];
    }
  }
  const n = Math.max(1, ids.length - 1);
  const opts = { maxNewTokens: input.maxNewTokens, eosTokenIds: input.eosTokenIds, signal: input.signal };
  const original = await decode(engine, ids, opts);
  const modified = await decode(engine, ids, { ...opts, plan });
  return { numLayers: engine.layerMap.numLayers, plan, klPerToken, top1: agree / ids.length, baseCe: baseCe / n, ce: ce / n, original: original.ids, modified: modified.ids };
}
