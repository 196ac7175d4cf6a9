// Plan builders for sweeps, drafts and the plan editor, plus the prefix-sharing rule
// (how many leading slots a plan has in common with the unmodified model).
import { identityPlan, type ExecutionPlan, type PlanSlot } from '../../../protocol';
import type { SweepEntryKind, SweepOptions } from '../../../protocol/skip';

/** A plan of a sweep, with what it modifies. */
export interface SweepPlan {
  kind: SweepEntryKind;
  /** Blocks involved: skip/repeat/skipAttn/skipMlp [i]; swap [i, j]; span [i, …, j]. */
  layers: number[];
  plan: ExecutionPlan;
}

const slotsOf = (n: number): PlanSlot[] => identityPlan(n).slots;

/** The unmodified model without the given blocks. */
export function skipPlan(numLayers: number, skip: Iterable<number>, name?: string): ExecutionPlan {
  const drop = new Set(skip);
  return { name: name ?? `skip ${[...drop].sort((a, b) => a - b).join(',')}`, slots: slotsOf(numLayers).filter((s) => !drop.has(s.layer)) };
}

/** The unmodified model that exits after block `exitLayer` (final norm + head on its output). */
export function earlyExitPlan(numLayers: number, exitLayer: number): ExecutionPlan {
  return { name: `exit after ${exitLayer}`, slots: slotsOf(numLayers), exitAfter: exitLayer };
}

/** All sweep plans the options ask for, in a stable order. */
export function sweepPlans(numLayers: number, opts: SweepOptions, sublayersSeparable: (layer: number) => boolean): SweepPlan[] {
  const n = numLayers;
  const out: SweepPlan[] = [];
  if (opts.skips !== false) {
    for (let i = 0; i < n; i++) out.push({ kind: 'skip', layers: [i], plan: skipPlan(n, [i]) });
  }
  if (opts.sublayers !== false) {
    for (let i = 0; i < n; i++) {
      if (!sublayersSeparable(i)) continue;
      const attn = slotsOf(n).map((s) => (s.layer === i ? { ...s, attn: false } : s));
      const mlp = slotsOf(n).map((s) => (s.layer === i ? { ...s, mlp: false } : s));
      out.push({ kind: 'skipAttn', layers: [i], plan: { name: `skip attn ${i}`, slots: attn } });
      out.push({ kind: 'skipMlp', layers: [i], plan: { name: `skip mlp ${i}`, slots: mlp } });
    }
  }
  if (opts.swaps !== false || opts.allSwaps) {
    for (let i = 0; i + 1 < n; i++) {
      for (let j = i + 1; j < (opts.allSwaps ? n : i + 2); j++) {
        const slots = slotsOf(n);
        [slots[i], slots[j]] = [slots[j], slots[i]];
        out.push({ kind: 'swap', layers: [i, j], plan: { name: `swap ${i}<->${j}`, slots } });
      }
    }
  }
  if (opts.repeats) {
    for (let i = 0; i < n; i++) {
      const slots = slotsOf(n);
      slots.splice(i + 1, 0, { layer: i });
      out.push({ kind: 'repeat', layers: [i], plan: { name: `repeat ${i}`, slots } });
    }
  }
  for (const len of opts.spans ?? []) {
    if (!Number.isInteger(len) || len < 2 || len >= n) continue;
    for (let i = 0; i + len <= n; i++) {
      const layers = Array.from({ length: len }, (_, k) => i + k);
      out.push({ kind: 'span', layers, plan: skipPlan(n, layers, `skip ${i}..${i + len - 1}`) });
    }
  }
  return out;
}

const sameSlot = (a: PlanSlot, layer: number): boolean => a.layer === layer && a.attn !== false && a.mlp !== false;

/**
 * Number of leading slots of `plan` that equal the unmodified model's blocks 0..k-1, so the
 * residual after them can be shared. Patches disable sharing (they may touch any position).
 */
export function sharedPrefix(plan: ExecutionPlan): number {
  if ((plan.patches?.length ?? 0) > 0) return 0;
  let k = 0;
  while (k < plan.slots.length && sameSlot(plan.slots[k], k)) k++;
  return k;
}

/** Index of the last slot a plan runs (exitAfter, or the last slot). */
export function lastSlot(plan: ExecutionPlan): number {
  return Math.min(plan.exitAfter ?? plan.slots.length - 1, plan.slots.length - 1);
}

/** Checks a user-supplied plan against the model; returns a readable problem or undefined. */
export function planProblem(plan: ExecutionPlan, numLayers: number): string | undefined {
  if (!plan || !Array.isArray(plan.slots)) return 'plan.slots must be an array';
  if (plan.slots.length === 0) return 'a plan needs at least one block';
  if (plan.slots.length > 4 * numLayers) return `a plan may have at most ${4 * numLayers} slots`;
  for (const s of plan.slots) {
    if (!Number.isInteger(s?.layer) || s.layer < 0 || s.layer >= numLayers) return `block ${String(s?.layer)} is not in 0..${numLayers - 1}`;
  }
  if (plan.exitAfter !== undefined && (!Number.isInteger(plan.exitAfter) || plan.exitAfter < 0 || plan.exitAfter >= plan.slots.length)) {
    return `exitAfter must be a slot index in 0..${plan.slots.length - 1}`;
  }
  return undefined;
}
