// Pure helpers of the probe panel (no DOM): layer labels, echarts options for the accuracy curves,
// representation metrics and CKA, and CSV rows. Unit-testable in node.
import type { ProbeReadoutResult, ProbeRunResult, ZeroShotResult } from '../../protocol';
import type { CsvCell } from '../components/export';
import type { ChartOption } from '../components/chart';

/** 'embed' → 'emb', 'blocks.3.resid_post' → 'L3'. */
export function layerLabel(name: string): string {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m ? `L${m[1]}` : name === 'embed' ? 'emb' : name;
}

/** Name of a run in legends: data set, pooling, model. */
export function runLabel(run: ProbeRunResult): string {
  return `${run.datasetName} · ${run.pooling} · ${run.modelName}`;
}

const pct = (x: number) => Math.round(x * 1000) / 10;

/**
 * Accuracy per layer of each run (with its 95% band), the control task and mass-mean probe of the first
 * run, majority, random-features (and, when scored, zero-shot) baselines, and the first run's best layer
 * and concept depth.
 * Runs with different depths share an axis of the longest run's layers.
 */
/** Fallback series colours when the view passes none (VS Code's chart colours in the dark theme). */
const PALETTE = ['#3794ff', '#cca700', '#89d185', '#b180d7', '#f14c4c', '#d18616'];

export function curveOption(runs: ProbeRunResult[], palette: string[] = PALETTE, zeroShot?: ZeroShotResult): ChartOption {
  const colour = (k: number) => palette[k % palette.length];
  const longest = runs.reduce((a, r) => (r.layers.length > a.layers.length ? r : a), runs[0]);
  const labels = longest.layers.map((l) => layerLabel(l.name));
  const series: Record<string, unknown>[] = [];
  runs.forEach((run, k) => {
    const name = runs.length > 1 ? runLabel(run) : 'Logistic probe';
    const color = colour(k);
    series.push({ name: `${name} 95% lo`, type: 'line', stack: `ci${k}`, color, data: run.layers.map((l) => pct(l.accuracy.lo)), lineStyle: { opacity: 0 }, symbol: 'none', silent: true, tooltip: { show: false } });
    series.push({ name: `${name} 95% band`, type: 'line', stack: `ci${k}`, color, data: run.layers.map((l) => pct(l.accuracy.hi - l.accuracy.lo)), lineStyle: { opacity: 0 }, areaStyle: { opacity: 0.15 }, symbol: 'none', silent: true, tooltip: { show: false } });
    series.push({
      name,
      type: 'line',
      color,
      data: run.layers.map((l) => pct(l.accuracy.mean)),
      symbolSize: 7,
      markLine: k === 0 ? {
        symbol: 'none',
        label: { formatter: '{b}' },
        data: [
          { name: `majority ${pct(run.majority.mean)}%`, yAxis: pct(run.majority.mean), lineStyle: { type: 'dotted' }, label: { position: 'insideStartTop' } },
          { name: `random features ${pct(run.randomFeatures.mean)}%`, yAxis: pct(run.randomFeatures.mean), lineStyle: { type: 'dashed' }, label: { position: 'insideEndBottom' } },
          ...(zeroShot ? [{ name: `zero-shot ${pct(zeroShot.accuracy)}%`, yAxis: pct(zeroShot.accuracy), lineStyle: { type: 'solid', width: 2 }, label: { position: 'insideStartBottom' } }] : []),
          { name: `best ${layerLabel(run.layers[run.bestLayer].name)}`, xAxis: run.bestLayer },
          ...(run.conceptDepth !== run.bestLayer ? [{ name: `concept depth ${layerLabel(run.layers[run.conceptDepth].name)}`, xAxis: run.conceptDepth, lineStyle: { type: 'dashed' } }] : []),
        ],
      } : undefined,
    });
  });
  const first = runs[0];
  series.push({ name: 'Control task', type: 'line', color: colour(runs.length), data: first.layers.map((l) => pct(l.controlAccuracy.mean)), lineStyle: { type: 'dashed' }, symbol: 'emptyCircle' });
  series.push({ name: 'Mass-mean probe', type: 'line', color: colour(runs.length + 1), data: first.layers.map((l) => pct(l.massMeanAccuracy.mean)), lineStyle: { type: 'dotted' }, symbol: 'diamond' });
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v}%` },
    legend: { type: 'scroll', top: 0, data: series.map((s) => s.name as string).filter((n) => !/95% (lo|band)$/.test(n)) },
    grid: { left: 48, right: 24, top: 60, bottom: 36 },
    xAxis: { type: 'category', data: labels, name: 'layer', nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', name: 'accuracy %', min: 0, max: 100 },
    series,
  };
}

/** Prompt entropy and trajectory curvature per layer of one run. */
export function representationOption(run: ProbeRunResult): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 56, top: 36, bottom: 36 },
    xAxis: { type: 'category', data: run.layers.map((l) => layerLabel(l.name)), name: 'layer', nameLocation: 'middle', nameGap: 24 },
    yAxis: [
      { type: 'value', name: 'entropy', min: 0, max: 1 },
      { type: 'value', name: 'curvature (rad)', min: 0 },
    ],
    series: [
      { name: 'Prompt entropy', type: 'line', data: run.representation.promptEntropy.map((v) => Number(v.toFixed(4))) },
      { name: 'Curvature', type: 'line', yAxisIndex: 1, data: run.representation.curvature.map((v) => Number(v.toFixed(4))) },
    ],
  };
}

/** Linear CKA between layers as an echarts heatmap. */
export function ckaOption(run: ProbeRunResult): ChartOption {
  const labels = run.layers.map((l) => layerLabel(l.name));
  const data: [number, number, number][] = [];
  run.representation.cka.forEach((row, i) => row.forEach((v, j) => data.push([j, i, Number(v.toFixed(3))])));
  return {
    tooltip: { formatter: (p: { value: [number, number, number] }) => `${labels[p.value[1]]} vs ${labels[p.value[0]]}: CKA ${p.value[2]}` },
    grid: { left: 56, right: 24, top: 16, bottom: 64 },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'category', data: labels },
    visualMap: { min: 0, max: 1, calculable: true, orient: 'horizontal', left: 'center', bottom: 0 },
    series: [{ name: 'Linear CKA', type: 'heatmap', data, label: { show: labels.length <= 16 } }],
  };
}

/** One row per run and layer with every per-layer number. */
export function runCsvRows(runs: ProbeRunResult[], zeroShot?: ZeroShotResult): CsvCell[][] {
  const rows: CsvCell[][] = [['run', 'layer', 'accuracy', 'acc_lo', 'acc_hi', 'macro_f1', 'mass_mean_accuracy', 'control_accuracy', 'selectivity', 'lambda', 'prompt_entropy', 'curvature', 'majority', 'random_features', 'zero_shot']];
  runs.forEach((run, k) => {
    // The zero-shot baseline was scored on the first run's data set.
    const z = k === 0 ? zeroShot?.accuracy : undefined;
    run.layers.forEach((l, i) => rows.push([runLabel(run), l.name, l.accuracy.mean, l.accuracy.lo, l.accuracy.hi, l.macroF1.mean, l.massMeanAccuracy.mean, l.controlAccuracy.mean, l.selectivity, l.lambda, run.representation.promptEntropy[i], run.representation.curvature[i], run.majority.mean, run.randomFeatures.mean, z]));
  });
  return rows;
}

/** One row per layer and token: the probability of every class. */
export function readoutCsvRows(r: ProbeReadoutResult): CsvCell[][] {
  const rows: CsvCell[][] = [['layer', 'token_index', 'token', ...r.labels.map((l) => `p_${l}`)]];
  r.probs.forEach((layer, li) => layer.forEach((p, t) => rows.push([r.layerNames[li], t, r.tokens[t]?.text ?? '', ...p])));
  return rows;
}
