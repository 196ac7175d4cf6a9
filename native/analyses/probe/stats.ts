// Classification metrics and fold intervals for the probes (seeded random sources live in native/util/random).
import type { FoldInterval } from '../../../protocol';

export { gaussian, rng } from '../../util/random';


/** Fisher–Yates shuffle in place. */
export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return yTrue.length ? hit / yTrue.length : 0;
}

/** Adds predictions into confusion[true][pred]. */
export function addConfusion(confusion: number[][], yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  for (let i = 0; i < yTrue.length; i++) confusion[yTrue[i]][yPred[i]]++;
}

/** Macro-averaged F1 over the classes present in yTrue or yPred (as scikit-learn does). */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classes: number): number {
  const conf = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  addConfusion(conf, yTrue, yPred);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const tp = conf[c][c];
    let actual = 0;
    let predicted = 0;
    for (let k = 0; k < classes; k++) {
      actual += conf[c][k];
      predicted += conf[k][c];
    }
    if (actual === 0 && predicted === 0) continue;
    present++;
    sum += actual + predicted > 0 ? (2 * tp) / (actual + predicted) : 0;
  }
  return present ? sum / present : 0;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean with a 95% t-interval over fold values of a rate (accuracy, F1), clipped to [0, 1]. */
export function foldInterval(values: number[]): FoldInterval {
  const k = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, k);
  if (k < 2) return { mean, lo: mean, hi: mean };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (k - 1);
  const half = T975[Math.min(k - 1, T975.length) - 1] * Math.sqrt(variance / k);
  return { mean, lo: Math.max(0, mean - half), hi: Math.min(1, mean + half) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
