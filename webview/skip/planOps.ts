// Pure edits of an execution plan for the plan editor (no DOM): toggle sublayers, move, repeat,
// remove and add blocks. Each returns a new plan.
import type { ExecutionPlan, PlanSlot } from '../../protocol';

const withSlots = (plan: ExecutionPlan, slots: PlanSlot[]): ExecutionPlan => {
  const next: ExecutionPlan = { ...plan, slots };
  if (next.exitAfter !== undefined && next.exitAfter >= slots.length) delete next.exitAfter;
  return next;
};

/** Turns the attention or the MLP of slot `i` on or off. */
export function toggleSublayer(plan: ExecutionPlan, i: number, part: 'attn' | 'mlp'): ExecutionPlan {
  const slots = plan.slots.map((s, j) => (j === i ? { ...s, [part]: s[part] === false } : s));
  return withSlots(plan, slots);
}

/** Moves slot `i` by `delta` positions (clamped). */
export function moveSlot(plan: ExecutionPlan, i: number, delta: number): ExecutionPlan {
  const j = Math.max(0, Math.min(plan.slots.length - 1, i + delta));
  if (i === j) return plan;
  const slots = [...plan.slots];
  const [s] = slots.splice(i, 1);
  slots.splice(j, 0, s);
  return withSlots(plan, slots);
}

/** Runs slot `i`'s block once more, right after it. */
export function repeatSlot(plan: ExecutionPlan, i: number): ExecutionPlan {
  const slots = [...plan.slots];
  slots.splice(i + 1, 0, { ...plan.slots[i] });
  return withSlots(plan, slots);
}

/** Removes slot `i` (a plan keeps at least one slot). */
export function removeSlot(plan: ExecutionPlan, i: number): ExecutionPlan {
  if (plan.slots.length <= 1) return plan;
  return withSlots(plan, plan.slots.filter((_, j) => j !== i));
}

/** Appends block `layer` at the end. */
export function addBlock(plan: ExecutionPlan, layer: number): ExecutionPlan {
  return withSlots(plan, [...plan.slots, { layer }]);
}

/** Short description of a plan, e.g. "0 1 [2 −mlp] 2 4". */
export function describePlan(plan: ExecutionPlan): string {
  return plan.slots
    .map((s) => {
      const off = [s.attn === false ? '−attn' : '', s.mlp === false ? '−mlp' : ''].filter(Boolean).join(' ');
      return off ? `[${s.layer} ${off}]` : String(s.layer);
    })
    .join(' ');
}
