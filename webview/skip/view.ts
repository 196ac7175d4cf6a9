// The skip panel: layer sweep charts (importance, swap matrix, per-token KL, sublayers, similarity),
// the early-exit simulator, self-speculative decoding runs and the plan editor, as keyboard-reachable
// tabs. Every tab exports CSV / JSON; every chart PNG / SVG.
import type { EarlyExitResult, PlanRunResult, SelfSpecResult, SkipPanelResult, SkipSweepPartial, SkipSweepResult, SweepEntry, TokenSpan } from '../../protocol';
import type { ViewHost, ViewInit, ViewInstance, ViewModule } from '../api';
import { Chart } from '../components/chart';
import { exportCsv, exportJson, type CsvCell } from '../components/export';
import { importanceOption, METRIC_LABELS, otherPlansOption, sublayerOption, swapMatrix, SUBLAYER_LABELS, type ImportanceMetric, type SublayerSeries, tokenLabels } from './charts';
import { heatGrid } from './grid';
import { button, el, fmt, select } from '../components/dom';
import { renderEarlyExit } from './exitView';
import { renderPlanEditor } from './planEditor';
import { renderSelfSpec } from './specView';
import css from './skip.css';

export type TabId = 'importance' | 'swaps' | 'tokens' | 'sublayers' | 'similarity' | 'earlyExit' | 'selfSpec' | 'plan';

const TAB_LABELS: Record<TabId, string> = {
  importance: 'Layer importance',
  swaps: 'Swap matrix',
  tokens: 'Per token',
  sublayers: 'Sublayers',
  similarity: 'Similarity',
  earlyExit: 'Early exit',
  selfSpec: 'Self-speculative',
  plan: 'Plan editor',
};

/** What a tab rendered: its charts / heatmaps (disposed on the next render) and its data for CSV / JSON export. */
export interface Section {
  name: string;
  parts: { dispose(): void }[];
  csv(): CsvCell[][];
  json(): unknown;
  /** The editor cursor moved to a prompt token. */
  cursor?(tokenIndex: number | null): void;
}

/** Results fetched from inside the panel (kept in the panel state). */
export interface SkipViewState {
  tab?: TabId;
  metric?: ImportanceMetric;
  sublayerSeries?: SublayerSeries;
  earlyExit?: EarlyExitResult;
  selfSpec?: SelfSpecResult;
  planRun?: PlanRunResult;
}

/** Context handed to each tab renderer. */
export interface TabContext {
  host: ViewHost;
  state: SkipViewState;
  save(): void;
  numLayers: number;
  tokens: TokenSpan[];
  /** Re-render the current tab (after a fetched result arrived). */
  refresh(): void;
  cursor: number | null;
}

class SkipView implements ViewInstance {
  private result: SkipPanelResult;
  private state: SkipViewState;
  private section: Section | undefined;
  private partial: SweepEntry[] | undefined;
  private cursor: number | null = null;
  private readonly tabs: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly root: HTMLElement, private readonly host: ViewHost, init: ViewInit) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    this.result = init.result as SkipPanelResult;
    this.state = host.getState<SkipViewState>() ?? {};
    this.adopt(this.result);
    this.tabs = el('div', { role: 'tablist', class: 'll-skip-tabs', 'aria-label': 'Skip analyses' });
    this.body = el('div', { class: 'll-skip-body', role: 'tabpanel' });
    root.append(this.tabs, this.body);
    this.render();
  }

  update(init: ViewInit): void {
    this.result = init.result as SkipPanelResult;
    this.partial = undefined;
    this.adopt(this.result);
    this.render();
  }

  editorCursor(tokenIndex: number | null): void {
    this.cursor = tokenIndex;
    this.section?.cursor?.(tokenIndex);
  }

  setStale(): void {}

  progress(_fraction: number | undefined, _message: string | undefined, partial: unknown): void {
    const entries = (partial as SkipSweepPartial | undefined)?.entries;
    if (!Array.isArray(entries) || this.result.analysis !== 'sweep') return;
    this.partial = entries;
    if (this.currentTab() === 'importance') this.render();
  }

  /** A result that is not a sweep also fills its own tab. */
  private adopt(r: SkipPanelResult): void {
    if (r.analysis === 'earlyExit') this.state.earlyExit = r;
    if (r.analysis === 'selfSpec') this.state.selfSpec = r;
    if (r.analysis === 'planRun') this.state.planRun = r;
    if (r.analysis !== 'sweep' && !this.state.tab) this.state.tab = r.analysis === 'planRun' ? 'plan' : r.analysis;
  }

  private availableTabs(): TabId[] {
    const sweepTabs: TabId[] = this.result.analysis === 'sweep' ? ['importance', 'swaps', 'tokens', 'sublayers', 'similarity'] : [];
    return [...sweepTabs, 'earlyExit', 'selfSpec', 'plan'];
  }

  private currentTab(): TabId {
    const tabs = this.availableTabs();
    return this.state.tab && tabs.includes(this.state.tab) ? this.state.tab : tabs[0];
  }

  private save(): void {
    this.host.setState(this.state);
  }

  private render(): void {
    for (const c of this.section?.parts ?? []) c.dispose();
    this.section = undefined;
    const tabs = this.availableTabs();
    const current = this.currentTab();
    this.tabs.replaceChildren(
      ...tabs.map((id, i) => {
        const b = el('button', { role: 'tab', class: 'll-skip-tab', id: `tab-${id}`, 'aria-selected': String(id === current), tabindex: id === current ? 0 : -1 }, TAB_LABELS[id]);
        b.addEventListener('click', () => this.select(id));
        b.addEventListener('keydown', (e) => {
          const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
          if (!d) return;
          e.preventDefault();
          this.select(tabs[(i + d + tabs.length) % tabs.length], true);
        });
        return b;
      }),
    );
    this.body.replaceChildren();
    this.body.setAttribute('aria-labelledby', `tab-${current}`);
    const ctx: TabContext = {
      host: this.host,
      state: this.state,
      save: () => this.save(),
      numLayers: this.numLayers(),
      tokens: this.tokens(),
      refresh: () => this.render(),
      cursor: this.cursor,
    };
    const content = el('div', { class: 'll-skip-content' });
    const exports = el('div', { class: 'll-chart-toolbar' });
    this.body.append(exports, content);
    this.section = this.renderTab(current, content, ctx);
    const section = this.section;
    if (section) {
      exports.append(
        button('Export CSV', () => exportCsv(this.host, section.csv(), section.name), { secondary: true }),
        button('Export JSON', () => exportJson(this.host, section.json(), section.name), { secondary: true }),
      );
    }
  }

  private select(id: TabId, focus = false): void {
    this.state.tab = id;
    this.save();
    this.render();
    if (focus) (this.tabs.querySelector(`#tab-${id}`) as HTMLElement | null)?.focus();
  }

  private renderTab(tab: TabId, root: HTMLElement, ctx: TabContext): Section | undefined {
    const r = this.result;
    if (tab === 'earlyExit') return renderEarlyExit(root, ctx);
    if (tab === 'selfSpec') return renderSelfSpec(root, ctx);
    if (tab === 'plan') return renderPlanEditor(root, ctx, r.analysis === 'sweep' ? r.sublayer.separable : undefined);
    if (r.analysis !== 'sweep') return undefined;
    if (tab === 'importance') return this.importance(root, r);
    if (tab === 'swaps') return this.swaps(root, r);
    if (tab === 'tokens') return this.perToken(root, r);
    if (tab === 'sublayers') return this.sublayers(root, r);
    return this.similarity(root, r);
  }

  private metricPicker(r: SkipSweepResult): HTMLElement {
    const metrics = (Object.keys(METRIC_LABELS) as ImportanceMetric[]).filter((m) => m !== 'answer' || r.entries.some((e) => e.answer));
    return select('Metric', metrics.map((m) => ({ value: m, label: METRIC_LABELS[m] })), this.metric(), (m) => {
      this.state.metric = m;
      this.save();
      this.render();
    });
  }

  private metric(): ImportanceMetric {
    return this.state.metric ?? 'kl';
  }

  private importance(root: HTMLElement, full: SkipSweepResult): Section {
    const r = this.partial ? { ...full, entries: this.partial } : full;
    const summary = el('p', { class: 'll-skip-summary' },
      `${r.texts} text(s), ${r.positions} scored positions, base cross-entropy ${fmt(r.baseCe)} nats. ` +
      `Sweep cost: blocks evaluated = ${r.forwardEquivalents.toFixed(2)} full forwards per text for ${r.entries.length} plans (prefix reuse); ${Math.round(full.elapsedMs)} ms.`);
    root.append(el('div', { class: 'll-skip-controls' }, this.metricPicker(r)), summary, this.resweepControls(full));
    const charts = [new Chart(root, this.host, { label: 'Layer importance per block', exportName: 'skip-importance' })];
    charts[0].setOption(importanceOption(r, this.metric()));
    if (r.entries.some((e) => e.kind === 'repeat' || e.kind === 'span')) {
      const c = new Chart(root, this.host, { label: 'Repeat and span plans', exportName: 'skip-other-plans', height: '260px' });
      c.setOption(otherPlansOption(r, this.metric()));
      charts.push(c);
    }
    return {
      name: 'skip-sweep',
      parts: charts,
      csv: () => [
        ['plan', 'kind', 'layers', 'ce', 'kl', 'top1', 'answer_logprob', 'answer_base_logprob', 'answer_rank', 'answer_top1'],
        ...r.entries.map((e) => [e.label, e.kind, e.layers.join(' '), e.ce, e.kl, e.top1, e.answer?.logprob, e.answer?.baseLogprob, e.answer?.rank, e.answer?.top1Text]),
      ],
      json: () => r,
    };
  }

  /** Mark an answer token and choose extra plans, then sweep again (the host replaces this result). */
  private resweepControls(r: SkipSweepResult): HTMLElement {
    const answer = el('select', { 'aria-label': 'Answer token' });
    answer.append(el('option', { value: '' }, '(no answer token)'));
    r.tokens.forEach((t, i) => {
      if (i > 0) answer.append(el('option', { value: i, selected: i === r.answerIndex }, `${i}: ${t.text}`));
    });
    const repeats = el('input', { type: 'checkbox', checked: r.entries.some((e) => e.kind === 'repeat') });
    const allSwaps = el('input', { type: 'checkbox', checked: r.entries.filter((e) => e.kind === 'swap').length > r.numLayers - 1 });
    const spans = el('input', { type: 'text', value: [...new Set(r.entries.filter((e) => e.kind === 'span').map((e) => e.layers.length))].join(','), size: 6, 'aria-label': 'Span lengths to skip, comma separated' });
    const status = el('span', { role: 'status' });
    return el('div', { class: 'll-skip-controls' },
      el('label', { class: 'll-skip-field' }, 'Answer token ', answer),
      el('label', { class: 'll-skip-field' }, repeats, ' repeats'),
      el('label', { class: 'll-skip-field' }, allSwaps, ' all swaps'),
      el('label', { class: 'll-skip-field' }, 'spans ', spans),
      button('Sweep again', () => {
        status.textContent = 'Sweeping…';
        const options = { repeats: repeats.checked, allSwaps: allSwaps.checked, spans: spans.value.split(/[\s,]+/).filter(Boolean).map(Number) };
        this.host.request('sweep', { options, answerIndex: answer.value ? Number(answer.value) : undefined }).then(
          () => (status.textContent = ''),
          (e: Error) => (status.textContent = `Failed: ${e.message}`),
        );
      }, { secondary: true }),
      status,
    );
  }

  private swaps(root: HTMLElement, r: SkipSweepResult): Section {
    const m = swapMatrix(r, this.metric());
    const labels = Array.from({ length: r.numLayers }, (_, i) => `${i}`);
    root.append(el('div', { class: 'll-skip-controls' }, this.metricPicker(r)));
    const grid = heatGrid(root, this.host, { label: `Swapping blocks i (rows) and j (columns): ${METRIC_LABELS[this.metric()]}`, name: 'skip-swaps', rowLabels: labels.map((l) => `block ${l}`), colLabels: labels, values: m });
    return { name: 'skip-swaps', parts: [grid], csv: () => [['', ...labels], ...m.map((row, i) => [labels[i], ...row])], json: () => r.entries.filter((e) => e.kind === 'swap') };
  }

  private perToken(root: HTMLElement, r: SkipSweepResult): Section {
    const T = r.entries[0]?.klPerToken.length ?? 0;
    const grid = heatGrid(root, this.host, {
      label: 'KL to the unmodified model per prompt token (rows: plans)',
      name: 'skip-per-token',
      rowLabels: r.entries.map((e) => e.label),
      colLabels: tokenLabels(r.tokens, T),
      values: r.entries.map((e) => e.klPerToken),
      tokenColumns: true,
      highlightCol: this.cursor,
    });
    return {
      name: 'skip-per-token',
      parts: [grid],
      csv: () => [['plan', ...tokenLabels(r.tokens, T)], ...r.entries.map((e) => [e.label, ...e.klPerToken])],
      json: () => r.entries.map((e) => ({ plan: e.label, klPerToken: e.klPerToken })),
      cursor: (c) => grid.setHighlightCol(c),
    };
  }

  private sublayers(root: HTMLElement, r: SkipSweepResult): Section {
    const s = r.sublayer;
    const series = this.state.sublayerSeries ?? 'ioCos';
    const keys = Object.keys(SUBLAYER_LABELS) as SublayerSeries[];
    const line = new Chart(root, this.host, { label: 'Sublayer contributions per block', exportName: 'skip-sublayers' });
    line.setOption(sublayerOption(s));
    root.append(el('div', { class: 'll-skip-controls' }, select('Per token', keys.map((k) => ({ value: k, label: SUBLAYER_LABELS[k] })), series, (v) => {
      this.state.sublayerSeries = v;
      this.save();
      this.render();
    })));
    const T = s[series][0]?.length ?? 0;
    const rows = Array.from({ length: r.numLayers }, (_, l) => `block ${l}`);
    const grid = heatGrid(root, this.host, { label: `${SUBLAYER_LABELS[series]} per block and token`, name: `skip-${series}`, rowLabels: rows, colLabels: tokenLabels(r.tokens, T), values: s[series], tokenColumns: true, highlightCol: this.cursor });
    return {
      name: 'skip-sublayers',
      parts: [line, grid],
      csv: () => [['block', 'separable', ...keys], ...rows.map((_, l) => [l, s.separable[l], ...keys.map((k) => s.means[k][l])])],
      json: () => s,
      cursor: (c) => grid.setHighlightCol(c),
    };
  }

  private similarity(root: HTMLElement, r: SkipSweepResult): Section {
    const labels = Array.from({ length: r.numLayers }, (_, i) => `${i}`);
    const grid = heatGrid(root, this.host, { label: 'Mean cosine similarity between block outputs', name: 'skip-similarity', rowLabels: labels.map((l) => `block ${l}`), colLabels: labels, values: r.sublayer.similarity });
    return { name: 'skip-similarity', parts: [grid], csv: () => [['', ...labels], ...r.sublayer.similarity.map((row, i) => [labels[i], ...row])], json: () => r.sublayer.similarity };
  }

  private numLayers(): number {
    return this.result.numLayers;
  }

  private tokens(): TokenSpan[] {
    const r = this.result;
    return r.analysis === 'selfSpec' ? r.promptTokens : r.tokens;
  }
}

export const view: ViewModule = {
  mount: (root, host, init) => new SkipView(root, host, init),
};
