// The probe panel's pure helpers on a run shaped like the sidecar's answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProbeReadoutResult, ProbeRunResult } from '../../../protocol';
import { isProbeReadout } from '../../../protocol';
import { ckaOption, curveOption, layerLabel, readoutCsvRows, runCsvRows } from '../../../webview/probe/model';

const iv = (mean: number) => ({ mean, lo: mean - 0.05, hi: mean + 0.05 });
const layer = (name: string, acc: number) => ({ name, accuracy: iv(acc), macroF1: iv(acc), massMeanAccuracy: iv(acc - 0.1), controlAccuracy: iv(0.5), selectivity: acc - 0.5, lambda: 0.01, confusion: [[5, 1], [2, 4]] });
const run: ProbeRunResult = {
  modelName: 'm', datasetName: 'd.csv', datasetHash: 'h', pooling: 'last', labels: ['a', 'b'], counts: [6, 6], examples: 12, folds: 2, grouped: false,
  layers: [layer('embed', 0.5), layer('blocks.0.resid_post', 0.7), layer('blocks.1.resid_post', 0.9)], bestLayer: 2, conceptDepth: 2,
  majority: iv(0.5), randomFeatures: iv(0.55), representation: { promptEntropy: [0.9, 0.8, 0.7], curvature: [1, 1.1, 1.2], cka: [[1, 0.5, 0.2], [0.5, 1, 0.6], [0.2, 0.6, 1]] },
  skipped: [], extraction: { cached: false, resumedChunks: 0, examplesPerSecond: 10, ms: 1200 }, fitMs: 300,
};

test('layer labels', () => {
  assert.equal(layerLabel('embed'), 'emb');
  assert.equal(layerLabel('blocks.11.resid_post'), 'L11');
});

test('curve option: one accuracy line with band per run, baselines and best layer marked', () => {
  const opt = curveOption([run, { ...run, modelName: 'other' }]) as { series: { name: string; data: number[]; markLine?: { data: { name: string }[] } }[]; xAxis: { data: string[] } };
  assert.deepEqual(opt.xAxis.data, ['emb', 'L0', 'L1']);
  const lines = opt.series.filter((s) => !/95%/.test(s.name));
  assert.deepEqual(lines.map((s) => s.name), ['d.csv · last · m', 'd.csv · last · other', 'Control task', 'Mass-mean probe']);
  assert.deepEqual(lines[0].data, [50, 70, 90]);
  const marks = lines[0].markLine!.data.map((d) => d.name);
  assert.deepEqual(marks, ['majority 50%', 'random features 55%', 'best L1']);
  const band = opt.series.find((s) => s.name.endsWith('95% band'))!;
  assert.deepEqual(band.data, [10, 10, 10]);
});

test('CKA heatmap cells and CSV exports', () => {
  const cka = ckaOption(run) as { series: { data: number[][] }[] };
  assert.equal(cka.series[0].data.length, 9);
  assert.deepEqual(cka.series[0].data[1], [1, 0, 0.5]);
  const rows = runCsvRows([run]);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[3].slice(1, 3), ['blocks.1.resid_post', 0.9]);
  assert.equal(rows[0].at(-1), 'zero_shot');
  assert.equal(rows[3].at(-1), undefined);
  const zeroShot = { words: { a: 'x', b: 'y' }, tokens: {}, examples: 10, accuracy: 0.8, meanTrueProb: 0.7, perLabel: [] };
  assert.deepEqual(runCsvRows([run], zeroShot).slice(1).map((r) => r.at(-1)), [0.8, 0.8, 0.8]);
  const marks = (curveOption([run], undefined, zeroShot) as { series: { markLine?: { data: { name: string; yAxis?: number }[] } }[] }).series.flatMap((x) => x.markLine?.data ?? []);
  assert.deepEqual(marks.filter((m) => m.name.startsWith('zero-shot')).map((m) => [m.name, m.yAxis]), [['zero-shot 80%', 80]]);
  const readout: ProbeReadoutResult = { tokens: [{ id: 1, text: 'a', start: 0, end: 1 }], labels: ['x', 'y'], layerNames: ['embed'], probs: [[[0.25, 0.75]]], probe: { datasetName: 'd', pooling: 'last', bestLayer: 0, modelName: 'm', accuracy: [0.5] } };
  assert.ok(isProbeReadout(readout) && !isProbeReadout(run));
  assert.deepEqual(readoutCsvRows(readout), [['layer', 'token_index', 'token', 'p_x', 'p_y'], ['embed', 0, 'a', 0.25, 0.75]]);
});
