// Independent reference metrics for skip tests: plain per-row log-softmax and the sweep's numbers
// computed from full forwards under a plan (no prefix reuse, no shared code with the analyses).
import type { Engine, ForwardOptions, Mat } from '../../../native/engine/api';

export function logProbs(logits: Mat, t: number): number[] {
  const r = Array.from(logits.data.subarray(t * logits.cols, (t + 1) * logits.cols));
  const m = Math.max(...r);
  const lse = m + Math.log(r.reduce((s, x) => s + Math.exp(x - m), 0));
  return r.map((x) => x - lse);
}

export const top = (r: ArrayLike<number>): number => {
  let b = 0;
  for (let i = 1; i < r.length; i++) if (r[i] > r[b]) b = i;
  return b;
};

/** CE, KL(base || plan) and top-1 agreement of a plan by full recomputation (`base`: the unmodified logits, if known). */
export async function reference(engine: Engine, ids: number[], opts: ForwardOptions, base?: Mat) {
  base ??= (await engine.forward(ids)).logits!;
  const mod = (await engine.forward(ids, opts)).logits!;
  let ce = 0;
  let kl = 0;
  let agree = 0;
  for (let t = 0; t < ids.length; t++) {
    const p = logProbs(base, t);
    const q = logProbs(mod, t);
    kl += p.reduce((s, lp, i) => s + Math.exp(lp) * (lp - q[i]), 0);
    if (top(p) === top(q)) agree++;
    if (t + 1 < ids.length) ce -= q[ids[t + 1]];
  }
  return { ce: ce / (ids.length - 1), kl: kl / ids.length, top1: agree / ids.length };
}

/** Plain greedy decoding by recomputing the whole sequence each step (no cache). */
export async function greedyNoCache(engine: Engine, prompt: number[], n: number): Promise<number[]> {
  const seq = [...prompt];
  for (let i = 0; i < n; i++) seq.push(top((await engine.forward(seq, { logits: 'last' })).logits!.data));
  return seq.slice(prompt.length);
}
