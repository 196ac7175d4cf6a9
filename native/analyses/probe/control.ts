// Baselines that need no model: Hewitt & Liang control labels (one random label per type, drawn
// from the task's label distribution) and the type of an example.
import type { ProbeExample } from './dataset';
import { rng } from './stats';

/**
 * The type an example's control label is attached to. With span pooling it is the span's text (the
 * word-type control of Hewitt & Liang); with last-token or mean pooling the representation depends on
 * the whole text, so the type is the whole (lower-cased, space-normalised) text, which makes the control
 * task a random labelling of distinct inputs.
 */
export function controlType(ex: ProbeExample): string {
  const text = ex.span ? ex.text.slice(ex.span[0], ex.span[1]) : ex.text;
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Control-task labels: each distinct type gets one label drawn from the empirical distribution of y,
 * so the control task has the task's label distribution but no relation to the representation beyond
 * word identity.
 */
export function controlLabels(types: string[], y: ArrayLike<number>, classes: number, seed: number): Int32Array {
  const freq = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) freq[y[i]] += 1 / y.length;
  const rand = rng(seed);
  const byType = new Map<string, number>();
  for (const t of [...new Set(types)].sort()) {
    let u = rand();
    let c = 0;
    while (c < classes - 1 && u >= freq[c]) u -= freq[c++];
    byType.set(t, c);
  }
  return Int32Array.from(types, (t) => byType.get(t)!);
}
