// Pure parts of the decode panel and the heatmap component: colours, contrast, SVG export, whitespace,
// metric normalisation and the CSV table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodeLayersResult, LensGrid } from '../../../protocol';
import { cellColor, heatmapSvg, parseColor, textColorOn, visibleWhitespace, type HeatmapTheme } from '../../../webview/components/heatmap';
import { colourValue, csvRows, differenceValue, metricMax, metricValue } from '../../../webview/decode/model';

const theme: HeatmapTheme = {
  background: '#000000', foreground: '#ffffff', muted: '#888888', border: '#444444', focus: '#0000ff',
  low: [0, 0, 0], high: [0, 100, 200], negative: [200, 0, 0], highContrast: false,
};

test('colours parse from theme variables and scale between background and accent', () => {
  assert.deepEqual(parseColor('#fff'), [255, 255, 255]);
  assert.deepEqual(parseColor('#3794ffcc'), [0x37, 0x94, 0xff]);
  assert.deepEqual(parseColor('rgba(1, 2, 3, 0.5)'), [1, 2, 3]);
  assert.equal(parseColor('var(--x)'), undefined);
  assert.deepEqual(cellColor(0, theme, 'sequential'), [0, 0, 0]);
  assert.deepEqual(cellColor(1, theme, 'sequential'), [0, 100, 200]);
  assert.deepEqual(cellColor(0.5, theme, 'sequential'), [0, 50, 100]);
  assert.deepEqual(cellColor(-1, theme, 'diverging'), [200, 0, 0]);
  assert.deepEqual(cellColor(Number.NaN, theme, 'sequential'), [0, 0, 0]);
  assert.equal(textColorOn([255, 255, 255]), '#000000');
  assert.equal(textColorOn([0, 0, 0]), '#ffffff');
});

test('whitespace is made visible in token texts', () => {
  assert.equal(visibleWhitespace(' the'), '·the');
  assert.equal(visibleWhitespace('a\nb\tc'), 'a↵b→c');
  assert.equal(visibleWhitespace(''), '∅');
});

test('heatmap SVG has a cell per row and column, escapes text and puts row 0 at the bottom', () => {
  const svg = heatmapSvg(
    { rows: 2, cols: 3, rowLabels: ['embed', 'block <0>'], colLabels: ['a', '&', '"'], value: (r, c) => (r + c) / 3, text: (r, c) => (r === 1 && c === 1 ? '<b>' : `${r}${c}`) },
    theme,
    { label: 'test & map', bottomUp: true, cellWidth: 40, cellHeight: 20 },
  );
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 6);
  assert.ok(svg.includes('&lt;b&gt;') && !svg.includes('<b>'));
  assert.ok(svg.includes('block &lt;0&gt;') && svg.includes('<title>test &amp; map</title>'));
  // Row 0 ("embed") is drawn below row 1.
  const yOf = (label: string) => Number(new RegExp(`y="([\\d.]+)"[^>]*>${label}<`).exec(svg)![1]);
  assert.ok(yOf('embed') > yOf('block &lt;0&gt;'));
});

function grid(lens: LensGrid['lens'], probs: number[][], kl: number[][]): LensGrid {
  return {
    lens,
    topIds: probs.map((row) => row.map((_, t) => [t, 9])),
    topProbs: probs.map((row) => row.map((p) => [p, (1 - p) / 2])),
    entropy: kl.map((row) => row.map((x) => x / 2)),
    kl,
    targetProb: probs,
    targetRank: probs.map((row) => row.map((p) => (p > 0.5 ? 0 : 3))),
  };
}

test('metrics normalise to colour values and differences; CSV has a row per lens, layer and token', () => {
  const a = grid('logit', [[0.1, 0.2], [0.9, 0.8]], [[3, 1], [0, 0]]);
  const b = grid('tuned', [[0.5, 0.6], [0.9, 0.8]], [[1, 0.5], [0, 0]]);
  assert.equal(metricValue(a, 'prob', 1, 0), 0.9);
  assert.equal(metricMax(a, 'kl'), 3);
  assert.equal(colourValue(a, 'kl', 1, 0, 3), 1); // KL 0: as close to the output as it gets
  assert.equal(colourValue(a, 'kl', 0, 0, 3), 0);
  assert.equal(colourValue(a, 'rank', 1, 0, 3), 1);
  assert.ok(Math.abs(differenceValue(a, b, 'prob', 0, 0, 0, 0) - -0.4) < 1e-12);
  const result: DecodeLayersResult = {
    modelName: 'm', numLayers: 1, layerNames: ['embed', 'block 0'],
    tokens: [{ id: 0, text: 'x', start: 0, end: 1 }, { id: 1, text: ' y', start: 1, end: 3 }],
    targets: [1, 9], vocab: { 0: 'x', 1: ' y', 9: ',' }, grids: [a, b], elapsedMs: 1,
  };
  const rows = csvRows(result, result.grids);
  assert.equal(rows.length, 1 + 2 * 2 * 2);
  assert.deepEqual(rows[0].slice(0, 4), ['lens', 'layer', 'token_index', 'token']);
  assert.deepEqual(rows[1].slice(0, 5), ['logit', 'embed', 0, 'x', ' y']);
  assert.equal(rows[0].length, rows[1].length);
});
