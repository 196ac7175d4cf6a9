// The decode panel for a held-out evaluation of lenses ("Compare Lenses", or a lens fit's "Show per
// Layer"): per layer and lens, KL to the model's output, top-1 agreement with it, next-token
// cross-entropy (and R² of a linear shortcut) as a line chart and a table; a tuned lens's training
// curve; CSV / JSON / PNG / SVG export.
import { lensEvalTable, type CompareLensesResult, type FitLensResult, type LensKind, type LensLayerEval } from '../../protocol';
import type { ViewHost, ViewInit, ViewInstance } from '../api';
import { Chart } from '../components/chart';
import { el, fmt, select, button } from '../components/dom';
import { exportCsv, exportJson } from '../components/export';

type LensEvaluation = CompareLensesResult | FitLensResult;
type Metric = keyof LensLayerEval;

const LENS_LABELS: Record<LensKind, string> = { logit: 'Logit lens', shortcut: 'Linear shortcut', tuned: 'Tuned lens' };
const METRICS: { value: Metric; label: string; axis: string }[] = [
  { value: 'kl', label: 'KL to the output (nats)', axis: 'KL (nats)' },
  { value: 'top1', label: 'Top-1 agreement with the output', axis: 'agreement' },
  { value: 'ce', label: 'Next-token cross-entropy (nats)', axis: 'CE (nats)' },
  { value: 'r2', label: 'R² of the residual prediction', axis: 'R²' },
];

interface LensEvalState {
  metric?: Metric;
}

/** The one-line description of an evaluation: how many held-out tokens, and for a fit what was fitted. */
export function lensEvalSummary(r: LensEvaluation): string {
  const lenses = r.evals.map((e) => LENS_LABELS[e.lens]).join(', ');
  if ('kind' in r) {
    return `${LENS_LABELS[r.kind]} ${r.cached ? 'loaded from cache' : 'fitted'} on ${r.trainTokens} tokens; evaluated on ${r.heldOutTokens} held-out tokens: ${lenses}.`;
  }
  return `${r.tokens} held-out tokens: ${lenses}.`;
}

const SHORT: Record<Metric, string> = { kl: 'KL', top1: 'top-1', ce: 'CE', r2: 'R²' };

/** 'shortcut_kl' -> 'Linear shortcut KL' (the CSV keeps the machine names). */
function columnLabel(column: string): string {
  const [lens, metric] = column.split('_') as [LensKind, Metric];
  return metric && LENS_LABELS[lens] ? `${LENS_LABELS[lens]} ${SHORT[metric]}` : column;
}

export class LensEvalView implements ViewInstance {
  private result!: LensEvaluation;
  private readonly state: LensEvalState;
  private readonly summary: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly body: HTMLElement;
  private charts: Chart[] = [];

  constructor(root: HTMLElement, private readonly host: ViewHost, init: ViewInit) {
    this.state = host.getState<LensEvalState>() ?? {};
    this.summary = el('div', { class: 'll-dec-summary' });
    this.controls = el('div', { class: 'll-dec-controls' });
    this.body = el('div');
    root.append(this.summary, this.controls, this.body);
    this.update(init);
  }

  update(init: ViewInit): void {
    this.result = init.result as LensEvaluation;
    this.render();
  }

  editorCursor(): void {}

  setStale(): void {}

  private metrics(): typeof METRICS {
    return METRICS.filter((m) => this.result.evals.some((e) => e.layers.some((l) => l[m.value] !== undefined)));
  }

  private render(): void {
    for (const c of this.charts) c.dispose();
    this.charts = [];
    this.body.replaceChildren();
    const r = this.result;
    this.summary.textContent = lensEvalSummary(r);
    const metrics = this.metrics();
    const metric = metrics.find((m) => m.value === this.state.metric) ?? metrics[0];
    const { header, rows } = lensEvalTable(r.evals);
    this.controls.replaceChildren(
      select('Metric', metrics.map(({ value, label }) => ({ value, label })), metric.value, (v) => {
        this.state.metric = v;
        this.host.setState(this.state);
        this.render();
      }),
      button('CSV', () => exportCsv(this.host, [header, ...rows], 'lens-evaluation'), { secondary: true, title: 'Export the table as CSV' }),
      button('JSON', () => exportJson(this.host, r, 'lens-evaluation'), { secondary: true, title: 'Export the result as JSON' }),
    );

    const layers = rows.map((row) => String(row[0]));
    const section = el('section', { 'aria-label': metric.label });
    section.append(el('h3', {}, `${metric.label} per layer`));
    this.body.append(section);
    const chart = new Chart(section, this.host, { label: `${metric.label} per layer, one line per lens`, exportName: `lens-${metric.value}` });
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: 40 },
      xAxis: { type: 'category', data: layers, name: 'layer', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', name: metric.axis, nameLocation: 'middle', nameGap: 44, scale: metric.value !== 'top1', max: metric.value === 'top1' ? 1 : undefined },
      series: r.evals
        .filter((e) => e.layers.some((l) => l[metric.value] !== undefined))
        .map((e) => ({ name: LENS_LABELS[e.lens], type: 'line', showSymbol: true, data: e.layers.map((l) => l[metric.value] ?? null) })),
    });
    this.charts.push(chart);

    if ('curve' in r && r.curve?.length) {
      const fit = el('section', { 'aria-label': 'Training curve' });
      fit.append(el('h3', {}, 'Training curve (held-out KL to the output, mean over layers)'));
      this.body.append(fit);
      const curve = new Chart(fit, this.host, { label: 'Training curve of the tuned lens', height: '220px', exportName: 'lens-training-curve' });
      curve.setOption({
        tooltip: { trigger: 'axis' },
        grid: { left: 64, right: 24, top: 16, bottom: 40 },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', name: 'KL (nats)', nameLocation: 'middle', nameGap: 44, scale: true },
        series: [{ type: 'line', showSymbol: false, data: r.curve.map((p) => [p.step, p.kl]) }],
      });
      this.charts.push(curve);
    }

    const t = el('table', { class: 'll-dec-table' }, el('caption', {}, 'Per layer and lens (held-out)'));
    t.append(el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col' }, columnLabel(h))))));
    const tbody = el('tbody');
    for (const row of rows) tbody.append(el('tr', {}, ...row.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, String(c)) : el('td', {}, typeof c === 'number' ? fmt(c) : c)))));
    t.append(tbody);
    this.body.append(t);
  }
}
