// Pure helpers of the decode panel (no DOM): metric values per cell, colour normalisation, the lens
// difference, per-cell descriptions and the CSV table; the neuron list's search, sort and CSV. Unit-tested in node.
import { neuronMatches, type DecodeLayersResult, type DecodeMetric, type LensGrid, type NeuronDecoding, type TokenScore } from '../../protocol';
import { visibleWhitespace } from '../components/heatmap';

export const METRIC_LABELS: Record<DecodeMetric, string> = {
  prob: 'Top-1 probability',
  entropy: 'Entropy (nats)',
  kl: 'KL to output (nats)',
  rank: 'Target rank',
};

/** The raw metric of one cell. */
export function metricValue(grid: LensGrid, metric: DecodeMetric, layer: number, token: number): number {
  switch (metric) {
    case 'prob':
      return grid.topProbs[layer][token][0];
    case 'entropy':
      return grid.entropy[layer][token];
    case 'kl':
      return grid.kl[layer][token];
    case 'rank':
      return grid.targetRank[layer][token];
  }
}

/** Colour value in [0, 1], bright = "confident / close to the output / target ranked high". */
export function colourValue(grid: LensGrid, metric: DecodeMetric, layer: number, token: number, max: number): number {
  const v = metricValue(grid, metric, layer, token);
  switch (metric) {
    case 'prob':
      return v;
    case 'entropy':
    case 'kl':
      return max > 0 ? 1 - Math.log1p(v) / Math.log1p(max) : 1;
    case 'rank':
      return max > 0 ? 1 - Math.log1p(v) / Math.log1p(max) : 1;
  }
}

/** Largest value of a metric over the grid (for normalisation). */
export function metricMax(grid: LensGrid, metric: DecodeMetric): number {
  let max = 0;
  for (let l = 0; l < grid.kl.length; l++) for (let t = 0; t < grid.kl[l].length; t++) max = Math.max(max, metricValue(grid, metric, l, t));
  return max;
}

/** Signed difference a − b of colour values, in [-1, 1] (positive: lens a brighter). */
export function differenceValue(a: LensGrid, b: LensGrid, metric: DecodeMetric, layer: number, token: number, maxA: number, maxB: number): number {
  const max = Math.max(maxA, maxB);
  return colourValue(a, metric, layer, token, max) - colourValue(b, metric, layer, token, max);
}

/** Display text of a token id. */
export function tokenText(result: DecodeLayersResult, id: number): string {
  return visibleWhitespace(result.vocab[id] ?? `#${id}`);
}

/** One line per top-k token: "text  12.3%". */
export function topKLines(result: DecodeLayersResult, grid: LensGrid, layer: number, token: number): string[] {
  return grid.topIds[layer][token].map((id, j) => `${tokenText(result, id)}  ${(100 * grid.topProbs[layer][token][j]).toFixed(1)}%`);
}

/** Screen-reader / tooltip summary of a cell. */
export function describeCell(result: DecodeLayersResult, grid: LensGrid, layer: number, token: number): string {
  const target = result.targets[token];
  return [
    `${result.layerNames[layer]}, token ${token} ${tokenText(result, result.tokens[token].id)}`,
    `top: ${topKLines(result, grid, layer, token).join(', ')}`,
    `entropy ${grid.entropy[layer][token].toFixed(3)}, KL ${grid.kl[layer][token].toFixed(3)}`,
    `target ${tokenText(result, target)}: p ${grid.targetProb[layer][token].toPrecision(3)}, rank ${grid.targetRank[layer][token]}`,
  ].join('; ');
}

/** Every number of every grid as rows (header first). */
export function csvRows(result: DecodeLayersResult, grids: LensGrid[]): (string | number)[][] {
  const k = grids[0]?.topIds[0]?.[0]?.length ?? 0;
  const header = ['lens', 'layer', 'token_index', 'token', 'target', 'target_prob', 'target_rank', 'entropy', 'kl_to_output'];
  for (let j = 0; j < k; j++) header.push(`top${j + 1}`, `top${j + 1}_prob`);
  const rows: (string | number)[][] = [header];
  for (const g of grids) {
    for (let l = 0; l < g.kl.length; l++) {
      for (let t = 0; t < result.tokens.length; t++) {
        const row: (string | number)[] = [g.lens, result.layerNames[l], t, result.vocab[result.tokens[t].id] ?? '', result.vocab[result.targets[t]] ?? '', g.targetProb[l][t], g.targetRank[l][t], g.entropy[l][t], g.kl[l][t]];
        g.topIds[l][t].forEach((id, j) => row.push(result.vocab[id] ?? String(id), g.topProbs[l][t][j]));
        rows.push(row);
      }
    }
  }
  return rows;
}

export type NeuronSort = 'index' | 'norm';

/** Neurons whose promoted or suppressed token texts contain `query` (case-insensitive), sorted. */
export function filterNeurons(neurons: NeuronDecoding[], query: string, sort: NeuronSort): NeuronDecoding[] {
  const q = query.trim().toLowerCase();
  const kept = neurons.filter((n) => neuronMatches(n, q));
  return sort === 'norm' ? kept.sort((a, b) => b.norm - a.norm || a.index - b.index) : kept.sort((a, b) => a.index - b.index);
}

const tokenList = (ts: TokenScore[]): string => ts.map((t) => `${t.text}:${t.score.toFixed(3)}`).join(' ');

/** CSV rows: one neuron a row, its tokens as "text:score" lists. */
export function neuronCsvRows(layer: number, neurons: NeuronDecoding[]): (string | number)[][] {
  return [['layer', 'neuron', 'norm', 'promoted', 'suppressed'], ...neurons.map((n) => [layer, n.index, n.norm, tokenList(n.promoted), tokenList(n.suppressed)])];
}
