// Heatmaps of the skip panel on the shared canvas heatmap (webview/components/heatmap.ts): cells
// coloured by value with the value as text, keyboard navigation, PNG / SVG export, and — when the
// columns are prompt tokens — hover / click linked to the prompt in the editor.
import type { ViewHost } from '../api';
import { Heatmap } from '../components/heatmap';
import { fmt, button, el } from '../components/dom';
import { scaleOf } from './charts';

export interface GridOptions {
  label: string;
  /** Export file name (no extension). */
  name: string;
  rowLabels: string[];
  colLabels: string[];
  values: (number | null)[][];
  /** Columns are prompt tokens: hover highlights the token in the editor, click selects it. */
  tokenColumns?: boolean;
  /** Text of a cell (default: its value). */
  text?: (row: number, col: number) => string;
  highlightCol?: number | null;
}

export interface Grid {
  setHighlightCol(col: number | null): void;
  dispose(): void;
}

export function heatGrid(parent: HTMLElement, host: ViewHost, o: GridOptions): Grid {
  const box = el('div', { class: 'll-skip-grid' });
  const toolbar = el('div', { class: 'll-chart-toolbar' });
  parent.append(el('h3', { class: 'll-skip-grid-title' }, o.label), toolbar, box);
  const scale = scaleOf(o.values);
  const map = new Heatmap(box, host, {
    label: o.label,
    onHover: (cell) => {
      if (o.tokenColumns) host.hoverToken(cell ? cell.col : null);
    },
    onClick: (cell) => {
      if (o.tokenColumns) host.selectToken(cell.col);
    },
    describe: (cell) => `${o.rowLabels[cell.row]}, ${o.colLabels[cell.col]}: ${fmt(o.values[cell.row]?.[cell.col])}`,
  });
  map.setData({
    rows: o.rowLabels.length,
    cols: o.colLabels.length,
    rowLabels: o.rowLabels,
    colLabels: o.colLabels,
    value: (r, c) => scale(o.values[r]?.[c]),
    text: (r, c) => (o.text ? o.text(r, c) : fmt(o.values[r]?.[c])),
  });
  if (o.highlightCol !== undefined) map.setHighlightCol(o.highlightCol);
  toolbar.append(
    button('Export PNG', () => host.exportFile('png', map.pngBase64(), 'base64', `${o.name}.png`), { secondary: true }),
    button('Export SVG', () => host.exportFile('svg', map.svg(), 'utf8', `${o.name}.svg`), { secondary: true }),
  );
  return { setHighlightCol: (col) => map.setHighlightCol(col), dispose: () => map.dispose() };
}
