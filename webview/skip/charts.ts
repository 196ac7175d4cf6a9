// echarts options for the skip panel, built from results only (pure: no DOM), so they can be tested.
import type { EarlyExitResult, ExitRule, SkipSweepResult, SublayerStats, SweepEntry, TokenSpan } from '../../protocol';

/** Maps values to [0, 1] by their range (NaN for missing ones), for the sequential heatmap scale. */
export function scaleOf(values: (number | null)[][]): (v: number | null | undefined) => number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of values) {
    for (const v of r) {
      if (v === null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return (v) => (v === null || v === undefined || !Number.isFinite(v) ? NaN : hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

export type ImportanceMetric = 'kl' | 'dce' | 'disagree' | 'answer';

export const METRIC_LABELS: Record<ImportanceMetric, string> = {
  kl: 'KL to the unmodified model (nats)',
  dce: 'Δ cross-entropy (nats)',
  disagree: '1 − top-1 agreement',
  answer: 'Δ log-prob of the answer token',
};

/** The value of one sweep entry for a metric (undefined when it does not apply). */
export function metricValue(e: SweepEntry, metric: ImportanceMetric, baseCe: number): number | undefined {
  switch (metric) {
    case 'kl':
      return e.kl;
    case 'dce':
      return e.ce - baseCe;
    case 'disagree':
      return 1 - e.top1;
    case 'answer':
      return e.answer ? e.answer.logprob - e.answer.baseLogprob : undefined;
  }
}

const base = (title: string) => ({
  title: { text: title, left: 'center', textStyle: { fontSize: 13, fontWeight: 'normal' as const } },
  tooltip: { trigger: 'axis' as const },
  legend: { top: 24 },
  grid: { left: 64, right: 24, top: 64, bottom: 48 },
  animation: false,
});

/** Bars per block: skip the block, only its attention, only its MLP. */
export function importanceOption(r: SkipSweepResult, metric: ImportanceMetric) {
  const layers = Array.from({ length: r.numLayers }, (_, i) => `${i}`);
  const series = (['skip', 'skipAttn', 'skipMlp'] as const)
    .map((kind, k) => {
      const byLayer = new Map(r.entries.filter((e) => e.kind === kind).map((e) => [e.layers[0], metricValue(e, metric, r.baseCe)]));
      if (byLayer.size === 0) return undefined;
      return {
        name: { skip: 'skip block', skipAttn: 'skip attention', skipMlp: 'skip MLP' }[kind],
        type: 'bar' as const,
        data: layers.map((_, i) => byLayer.get(i) ?? null),
      };
    })
    .filter((s) => s !== undefined);
  return {
    ...base(`Layer importance: ${METRIC_LABELS[metric]}`),
    xAxis: { type: 'category' as const, name: 'block', nameLocation: 'middle' as const, nameGap: 28, data: layers },
    yAxis: { type: 'value' as const, name: METRIC_LABELS[metric], nameLocation: 'middle' as const, nameGap: 48 },
    series,
  };
}

/** Bars for the other plans (repeats, spans), by label. */
export function otherPlansOption(r: SkipSweepResult, metric: ImportanceMetric) {
  const entries = r.entries.filter((e) => e.kind === 'repeat' || e.kind === 'span');
  return {
    ...base(`Repeat and span plans: ${METRIC_LABELS[metric]}`),
    xAxis: { type: 'category' as const, data: entries.map((e) => e.label), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value' as const },
    series: [{ type: 'bar' as const, name: METRIC_LABELS[metric], data: entries.map((e) => metricValue(e, metric, r.baseCe) ?? null) }],
  };
}

/** Token labels for heatmap columns: index and visible text. */
export function tokenLabels(tokens: TokenSpan[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i}:${(tokens[i]?.text ?? '').replace(/\n/g, '⏎').replace(/ /g, '·')}`);
}

/** The swap matrix: KL of swapping blocks i and j (upper triangle; adjacent only unless all pairs ran). */
export function swapMatrix(r: SkipSweepResult, metric: ImportanceMetric): (number | null)[][] {
  const m: (number | null)[][] = Array.from({ length: r.numLayers }, () => new Array(r.numLayers).fill(null));
  for (const e of r.entries) {
    if (e.kind !== 'swap') continue;
    const [i, j] = e.layers;
    const v = metricValue(e, metric, r.baseCe) ?? null;
    m[i][j] = v;
    m[j][i] = v;
  }
  return m;
}

export type SublayerSeries = 'attnRelNorm' | 'mlpRelNorm' | 'attnCos' | 'mlpCos' | 'ioCos' | 'deltaL2';

export const SUBLAYER_LABELS: Record<SublayerSeries, string> = {
  attnRelNorm: '‖attn out‖ / ‖residual‖',
  mlpRelNorm: '‖MLP out‖ / ‖residual‖',
  attnCos: 'cos(attn out, residual)',
  mlpCos: 'cos(MLP out, residual)',
  ioCos: 'cos(block in, block out)',
  deltaL2: '‖block out − block in‖',
};

/** Per-block means of the sublayer statistics (ratios and cosines on the left axis, L2 change on the right). */
export function sublayerOption(s: SublayerStats) {
  const L = s.means.ioCos.length;
  const keys: SublayerSeries[] = ['attnRelNorm', 'mlpRelNorm', 'attnCos', 'mlpCos', 'ioCos', 'deltaL2'];
  return {
    ...base('Sublayer contributions per block (mean over tokens)'),
    xAxis: { type: 'category' as const, name: 'block', nameLocation: 'middle' as const, nameGap: 28, data: Array.from({ length: L }, (_, i) => `${i}`) },
    yAxis: [
      { type: 'value' as const, name: 'ratio / cosine' },
      { type: 'value' as const, name: 'L2 change', splitLine: { show: false } },
    ],
    series: keys.map((k, i) => ({
      name: SUBLAYER_LABELS[k],
      type: 'line' as const,
      yAxisIndex: k === 'deltaL2' ? 1 : 0,
      connectNulls: false,
      data: s.means[k],
    })),
  };
}

/** Early exit: mean blocks used vs agreement with the full model, one line per rule. */
export function exitCurveOption(r: EarlyExitResult) {
  return {
    ...base('Early exit: blocks used vs agreement with the full model'),
    tooltip: { trigger: 'item' as const },
    xAxis: { type: 'value' as const, name: 'mean blocks used', nameLocation: 'middle' as const, nameGap: 28, min: 0, max: r.numLayers },
    yAxis: { type: 'value' as const, name: 'agreement', min: 0, max: 1 },
    series: r.rules.map((rule, i) => ({
      name: RULE_LABELS[rule.rule],
      type: 'line' as const,
      data: rule.curve.map((c) => ({ value: [c.avgLayers, c.agreement], name: `τ = ${c.threshold}` })),
    })),
  };
}

export const RULE_LABELS: Record<ExitRule, string> = {
  maxProb: 'max prob ≥ τ',
  entropy: 'entropy ≤ τ',
  stable: 'top-1 stable for τ blocks',
};
