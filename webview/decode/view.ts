// The decode panel: a layers x tokens heatmap of what each layer would predict (top-1 token text,
// coloured by a metric), lens switching and comparison (side by side or difference), hover top-k,
// pinning a cell to make its token the target, the target's probability / rank across layers, the
// contrastive (DoLa) next token, and PNG / SVG / CSV / JSON export.
import { isLensEvaluation, isNeuronList, type ContrastiveResult, type DecodeLayersResult, type DecodeMetric, type DecodePanelResult, type LensGrid, type LensKind } from '../../protocol';
import type { ViewHost, ViewInit, ViewInstance, ViewModule } from '../api';
import { Chart } from '../components/chart';
import { exportCsv, exportJson } from '../components/export';
import { Heatmap, visibleWhitespace, type Cell, type HeatmapData } from '../components/heatmap';
import { button, el } from '../components/dom';
import css from './decode.css';
import { LensEvalView } from './lensEval';
import { NeuronListView } from './neuronList';
import { METRIC_LABELS, colourValue, csvRows, describeCell, differenceValue, metricMax, tokenText, topKLines } from './model';

const LENS_LABELS: Record<LensKind, string> = { logit: 'Logit lens', shortcut: 'Linear shortcut', tuned: 'Tuned lens' };
type CompareMode = 'side' | 'diff';

/** Panel state kept across hide / show. */
interface DecodeViewState {
  lens?: LensKind;
  compare?: LensKind | 'none';
  mode?: CompareMode;
  metric?: DecodeMetric;
  pinned?: Cell;
  /** DoLa premature layer ('auto': the largest JSD from the output). */
  premature?: string;
}

function field<T extends string>(label: string, options: { value: T; label: string }[], value: T, onChange: (v: T) => void): HTMLLabelElement {
  const s = el('select');
  for (const o of options) s.append(el('option', { value: o.value, selected: o.value === value }, o.label));
  s.addEventListener('change', () => onChange(s.value as T));
  return el('label', {}, `${label} `, s);
}

class DecodeView implements ViewInstance {
  private result!: DecodeLayersResult;
  private readonly state: DecodeViewState;
  private cursor: number | null = null;
  private hoverCol: number | null = null;
  private maps: Heatmap[] = [];
  private chart: Chart | undefined;
  private contrastive: ContrastiveResult | undefined;
  private readonly staleBar: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly message: HTMLElement;
  private readonly mapsEl: HTMLElement;
  private readonly trajectory: HTMLElement;
  private readonly dola: HTMLElement;
  private readonly tip: HTMLElement;

  constructor(root: HTMLElement, private readonly host: ViewHost, init: ViewInit) {
    this.state = host.getState<DecodeViewState>() ?? {};
    this.staleBar = el('div', { class: 'll-dec-stale', role: 'status' }, 'The prompt changed since this ran. ', button('Re-run', () => host.rerun()));
    this.summary = el('div', { class: 'll-dec-summary' });
    this.controls = el('div', { class: 'll-dec-controls' });
    this.message = el('div', { class: 'll-dec-error', role: 'alert' });
    this.mapsEl = el('div', { class: 'll-dec-maps' });
    this.trajectory = el('section', { 'aria-label': 'Target token across layers' });
    this.dola = el('section', { 'aria-label': 'Contrastive decoding' });
    this.tip = el('div', { class: 'll-dec-tip', hidden: true, 'aria-hidden': 'true' });
    root.append(this.staleBar, this.summary, this.controls, this.message, this.mapsEl, this.trajectory, this.dola, this.tip);
    document.documentElement.addEventListener('mouseleave', () => (this.tip.hidden = true));
    this.update(init);
  }

  update(init: ViewInit): void {
    this.result = init.result as DecodeLayersResult;
    this.contrastive = undefined;
    this.state.lens ??= this.result.grids[0]?.lens ?? 'logit';
    if (this.state.pinned && (this.state.pinned.col >= this.result.tokens.length || this.state.pinned.row >= this.result.layerNames.length)) this.state.pinned = undefined;
    this.setStale(init.stale);
    this.render();
  }

  editorCursor(tokenIndex: number | null): void {
    this.cursor = tokenIndex;
    for (const m of this.maps) m.setHighlightCol(tokenIndex);
    this.renderTrajectory();
  }

  setStale(stale: boolean): void {
    this.staleBar.classList.toggle('shown', stale);
  }

  themeChanged(): void {
    this.renderTrajectory();
  }

  private save(): void {
    this.host.setState(this.state);
  }

  private grid(lens: LensKind): LensGrid | undefined {
    return this.result.grids.find((g) => g.lens === lens);
  }

  /** Fetches a lens this result does not have yet (through the host), then re-renders. */
  private async ensureLens(lens: LensKind): Promise<boolean> {
    if (this.grid(lens)) return true;
    this.message.textContent = `Computing the ${LENS_LABELS[lens].toLowerCase()}…`;
    try {
      const extra = await this.host.request<DecodeLayersResult>('layers', { lenses: [lens] });
      this.result = { ...this.result, grids: [...this.result.grids, ...extra.grids], vocab: { ...this.result.vocab, ...extra.vocab } };
      this.message.textContent = '';
      return true;
    } catch (e) {
      this.message.textContent = (e as Error).message;
      return false;
    }
  }

  private async chooseLens(lens: LensKind): Promise<void> {
    if (await this.ensureLens(lens)) this.state.lens = lens;
    this.save();
    this.render();
  }

  private async chooseCompare(lens: LensKind | 'none'): Promise<void> {
    if (lens === 'none' || (await this.ensureLens(lens))) this.state.compare = lens;
    this.save();
    this.render();
  }

  /** Pins a cell and makes its top-1 token the target at every position. */
  private async pin(cell: Cell): Promise<void> {
    const grid = this.grid(this.state.lens!);
    if (!grid) return;
    this.state.pinned = cell;
    this.save();
    const target = grid.topIds[cell.row][cell.col][0];
    this.host.selectToken(cell.col);
    await this.retarget(target);
  }

  private async retarget(target: number | null): Promise<void> {
    this.message.textContent = 'Scoring the target…';
    try {
      const lenses = this.result.grids.map((g) => g.lens);
      this.result = await this.host.request<DecodeLayersResult>('target', { target, lenses });
      this.message.textContent = '';
    } catch (e) {
      this.message.textContent = (e as Error).message;
    }
    this.render();
  }

  private render(): void {
    const r = this.result;
    const lens = this.grid(this.state.lens!) ? this.state.lens! : r.grids[0].lens;
    const compare = this.state.compare && this.state.compare !== 'none' && this.grid(this.state.compare) ? this.state.compare : 'none';
    const mode = this.state.mode ?? 'side';
    const metric = this.state.metric ?? 'prob';
    const uniformTarget = r.targets.every((t) => t === r.targets[0]) && r.targets.length > 1;
    this.summary.textContent = `${r.modelName} · ${r.tokens.length} tokens · ${r.numLayers} blocks · target: ${uniformTarget ? tokenText(r, r.targets[0]) : 'next prompt token'} · ${r.elapsedMs.toFixed(0)} ms`;
    const lensOptions = (['logit', 'shortcut', 'tuned'] as LensKind[]).map((value) => ({ value, label: LENS_LABELS[value] }));
    this.controls.replaceChildren(
      field('Lens', lensOptions, lens, (v) => void this.chooseLens(v)),
      field<LensKind | 'none'>('Compare with', [{ value: 'none', label: 'Nothing' }, ...lensOptions.filter((o) => o.value !== lens)], compare, (v) => void this.chooseCompare(v)),
      field<CompareMode>('Show', [{ value: 'side', label: 'Side by side' }, { value: 'diff', label: 'Difference' }], mode, (v) => {
        this.state.mode = v;
        this.save();
        this.render();
      }),
      field<DecodeMetric>('Colour by', (Object.keys(METRIC_LABELS) as DecodeMetric[]).map((value) => ({ value, label: METRIC_LABELS[value] })), metric, (v) => {
        this.state.metric = v;
        this.save();
        this.render();
      }),
      ...(uniformTarget ? [button('Next-token targets', () => void this.retarget(null), { secondary: true, title: 'Score each position’s next prompt token again' })] : []),
      button('PNG', () => this.host.exportFile('png', this.maps[0].pngBase64(), 'base64', 'decode-heatmap.png'), { secondary: true, title: 'Export the heatmap as PNG' }),
      button('SVG', () => this.host.exportFile('svg', this.maps[0].svg(), 'utf8', 'decode-heatmap.svg'), { secondary: true, title: 'Export the heatmap as SVG' }),
      button('CSV', () => exportCsv(this.host, csvRows(r, r.grids), 'decode-layers'), { secondary: true, title: 'Export the numbers as CSV' }),
      button('JSON', () => exportJson(this.host, r, 'decode-layers'), { secondary: true, title: 'Export the result as JSON' }),
      field('Premature layer', [{ value: 'auto', label: 'Auto (max JSD)' }, ...r.layerNames.slice(0, -1).map((name, i) => ({ value: String(i), label: name }))], this.state.premature ?? 'auto', (v) => {
        this.state.premature = v;
        this.save();
      }),
      button('Contrastive next token', () => void this.runContrastive(), { secondary: true, title: 'DoLa: the output contrasted with a premature layer' }),
    );
    for (const m of this.maps) m.dispose();
    this.maps = [];
    this.mapsEl.replaceChildren();
    this.mapsEl.classList.toggle('side', compare !== 'none' && mode === 'side');
    const a = this.grid(lens)!;
    const b = compare === 'none' ? undefined : this.grid(compare);
    if (b && mode === 'diff') this.addMap(`${LENS_LABELS[lens]} − ${LENS_LABELS[compare as LensKind]} (${METRIC_LABELS[metric]})`, a, b);
    else {
      this.addMap(`${LENS_LABELS[lens]} (${METRIC_LABELS[metric]})`, a);
      if (b) this.addMap(`${LENS_LABELS[compare as LensKind]} (${METRIC_LABELS[metric]})`, b);
    }
    this.renderTrajectory();
    this.renderContrastive();
  }

  private addMap(title: string, grid: LensGrid, minus?: LensGrid): void {
    const r = this.result;
    const metric = this.state.metric ?? 'prob';
    const maxA = metricMax(grid, metric);
    const maxB = minus ? metricMax(minus, metric) : 0;
    const data: HeatmapData = {
      rows: r.layerNames.length,
      cols: r.tokens.length,
      rowLabels: r.layerNames,
      colLabels: r.tokens.map((t) => visibleWhitespace(r.vocab[t.id] ?? t.text)),
      value: (l, t) => (minus ? differenceValue(grid, minus, metric, l, t, maxA, maxB) : colourValue(grid, metric, l, t, maxA)),
      text: (l, t) => tokenText(r, grid.topIds[l][t][0]),
    };
    const box = el('div', {}, el('h3', {}, title));
    this.mapsEl.append(box);
    const map = new Heatmap(box, this.host, {
      label: `${title}: layers (embedding at the bottom) by prompt tokens`,
      scale: minus ? 'diverging' : 'sequential',
      bottomUp: true,
      onHover: (cell, x, y) => this.hover(grid, cell, x, y, minus),
      onClick: (cell) => void this.pin(cell),
      describe: (cell) => describeCell(r, grid, cell.row, cell.col),
    });
    map.setData(data);
    map.setHighlightCol(this.cursor);
    map.setPinned(this.state.pinned ?? null);
    this.maps.push(map);
  }

  private hover(grid: LensGrid, cell: Cell | null, x: number, y: number, other?: LensGrid): void {
    const col = cell?.col ?? null;
    if (col !== this.hoverCol) {
      this.hoverCol = col;
      this.host.hoverToken(col);
    }
    if (!cell) {
      this.tip.hidden = true;
      return;
    }
    const r = this.result;
    const lines = [`${r.layerNames[cell.row]} · token ${cell.col} ${tokenText(r, r.tokens[cell.col].id)}`, ...topKLines(r, grid, cell.row, cell.col)];
    lines.push(`entropy ${grid.entropy[cell.row][cell.col].toFixed(3)}  KL ${grid.kl[cell.row][cell.col].toFixed(3)}`);
    lines.push(`target ${tokenText(r, r.targets[cell.col])}: ${(100 * grid.targetProb[cell.row][cell.col]).toFixed(2)}%, rank ${grid.targetRank[cell.row][cell.col]}`);
    if (other) lines.push(`${LENS_LABELS[other.lens]}: ${topKLines(r, other, cell.row, cell.col)[0]}`);
    this.tip.textContent = lines.join('\n');
    this.tip.hidden = false;
    const w = this.tip.offsetWidth;
    this.tip.style.left = `${Math.max(0, Math.min(window.innerWidth - w - 4, x + 12))}px`;
    this.tip.style.top = `${y + 12}px`;
  }

  /** Target probability and rank across layers at the pinned (else cursor, else last) position. */
  private renderTrajectory(): void {
    const r = this.result;
    const pos = this.state.pinned?.col ?? this.cursor ?? r.tokens.length - 1;
    if (pos < 0 || pos >= r.tokens.length) return;
    if (!this.chart) {
      this.trajectory.replaceChildren(el('h3', {}, 'Target across layers'));
      this.chart = new Chart(this.trajectory, this.host, { label: 'Target token probability and rank across layers', height: '240px', exportName: 'decode-trajectory' });
    }
    const shown = this.result.grids.filter((g) => g.lens === this.state.lens || g.lens === this.state.compare);
    const grids = shown.length > 0 ? shown : [r.grids[0]];
    this.chart.setOption({
      title: { text: `Target ${tokenText(r, r.targets[pos])} at token ${pos} ${tokenText(r, r.tokens[pos].id)}`, left: 0, textStyle: { fontSize: 12 } },
      tooltip: { trigger: 'axis' },
      legend: { top: 24, left: 0, type: 'scroll' },
      grid: { top: 64, left: 50, right: 50, bottom: 30 },
      xAxis: { type: 'category', data: r.layerNames },
      yAxis: [
        { type: 'value', name: 'probability', min: 0, max: 1 },
        { type: 'log', name: 'rank + 1', inverse: true, min: 1 },
      ],
      series: grids.flatMap((g) => [
        { type: 'line', name: `${LENS_LABELS[g.lens]} p`, data: g.targetProb.map((row) => row[pos]) },
        { type: 'line', name: `${LENS_LABELS[g.lens]} rank`, yAxisIndex: 1, lineStyle: { type: 'dashed' }, data: g.targetRank.map((row) => row[pos] + 1) },
      ]),
    });
  }

  private async runContrastive(): Promise<void> {
    this.dola.replaceChildren(el('p', {}, 'Running contrastive decoding…'));
    try {
      const premature = this.state.premature && this.state.premature !== 'auto' ? Number(this.state.premature) : undefined;
      this.contrastive = await this.host.request<ContrastiveResult>('contrastive', { premature });
    } catch (e) {
      this.dola.replaceChildren(el('p', { class: 'll-dec-error' }, (e as Error).message));
      return;
    }
    this.renderContrastive();
  }

  private renderContrastive(): void {
    const c = this.contrastive;
    if (!c) {
      this.dola.replaceChildren();
      return;
    }
    const r = this.result;
    const t = el('table', { class: 'll-dec-table' }, el('caption', {}, `Next token after the prompt: greedy vs contrastive (premature layer: ${r.layerNames[c.premature] ?? c.premature})`));
    t.append(el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, '#'), el('th', { scope: 'col' }, 'Greedy (probability)'), el('th', { scope: 'col' }, 'Contrastive (log-ratio)'))));
    const body = el('tbody');
    for (let i = 0; i < Math.max(c.greedy.length, c.contrastive.length); i++) {
      const g = c.greedy[i];
      const k = c.contrastive[i];
      body.append(el('tr', {}, el('td', {}, String(i + 1)), el('td', {}, g ? `${visibleWhitespace(g.text)}  ${(100 * g.score).toFixed(1)}%` : ''), el('td', {}, k ? `${visibleWhitespace(k.text)}  ${k.score.toFixed(2)}` : '')));
    }
    t.append(body);
    const jsd = el('p', { class: 'll-dec-summary' }, `JSD to the output per layer: ${c.jsd.map((x, i) => `${r.layerNames[i]} ${x.toFixed(3)}`).join(', ')}`);
    this.dola.replaceChildren(t, jsd);
  }
}

export const view: ViewModule = {
  mount: (root, host, init) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    const result = init.result as DecodePanelResult;
    if (isLensEvaluation(result)) return new LensEvalView(root, host, init);
    if (isNeuronList(result)) return new NeuronListView(root, host, init);
    return new DecodeView(root, host, init);
  },
};
