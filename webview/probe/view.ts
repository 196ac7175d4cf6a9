// The probe panel. A training run: accuracy per layer with 95% bands, control task, mass-mean probe,
// majority, random-features and (on request) zero-shot baselines, best layer and concept depth, other saved runs overlaid,
// the confusion matrix at a chosen layer, prompt entropy / curvature and the CKA matrix. A readout:
// a layers x tokens heatmap of one class's probability, linked to the editor tokens.
import { isProbeReadout, type ProbePanelResult, type ProbeReadoutResult, type ProbeRunResult, type ZeroShotResult } from '../../protocol';
import type { ViewHost, ViewInit, ViewInstance, ViewModule } from '../api';
import { Chart } from '../components/chart';
import { exportCsv, exportJson } from '../components/export';
import { Heatmap, visibleWhitespace } from '../components/heatmap';
import { button, el, fmt, select } from '../components/dom';
import { ckaOption, curveOption, layerLabel, readoutCsvRows, representationOption, runCsvRows, runLabel } from './model';
import css from './probe.css';

interface ProbeViewState {
  /** Overlaid saved runs (their run files). */
  overlays?: string[];
  /** The zero-shot baseline, once scored (label words typed in the panel). */
  zeroShot?: ZeroShotResult;
  zeroShotWords?: Record<string, string>;
  confusionLayer?: number;
  readoutClass?: number;
}

class ProbeView implements ViewInstance {
  private result!: ProbePanelResult;
  private readonly state: ProbeViewState;
  private overlays: ProbeRunResult[] = [];
  private charts: Chart[] = [];
  private heatmap: Heatmap | undefined;
  private readonly staleBar: HTMLElement;
  private readonly body: HTMLElement;
  private readonly message: HTMLElement;

  constructor(root: HTMLElement, private readonly host: ViewHost, init: ViewInit) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    this.state = host.getState<ProbeViewState>() ?? {};
    root.classList.add('ll-probe');
    this.staleBar = el('div', { class: 'll-probe-stale', role: 'status' }, 'The prompt changed since this ran. ', button('Re-run', () => host.rerun()));
    this.message = el('div', { class: 'll-probe-error', role: 'alert' });
    this.body = el('div');
    root.append(this.staleBar, this.message, this.body);
    this.update(init);
    void this.restoreOverlays();
  }

  update(init: ViewInit): void {
    this.result = init.result as ProbePanelResult;
    this.setStale(init.stale);
    this.render();
  }

  editorCursor(tokenIndex: number | null): void {
    this.heatmap?.setHighlightCol(tokenIndex);
  }

  setStale(stale: boolean): void {
    this.staleBar.classList.toggle('shown', stale);
  }

  private save(): void {
    this.host.setState(this.state);
  }

  private dispose(): void {
    for (const c of this.charts) c.dispose();
    this.charts = [];
    this.heatmap?.dispose();
    this.heatmap = undefined;
    this.body.replaceChildren();
  }

  private render(): void {
    this.dispose();
    if (isProbeReadout(this.result)) this.renderReadout(this.result);
    else this.renderRun(this.result);
  }

  // ------------------------------------------------------------------ training run

  private async restoreOverlays(): Promise<void> {
    if (isProbeReadout(this.result) || !this.state.overlays?.length) return;
    for (const runFile of this.state.overlays) {
      try {
        this.overlays.push(await this.host.request<ProbeRunResult>('loadRun', { runFile }));
      } catch {
        // the saved run was deleted: drop it
      }
    }
    this.render();
  }

  private async addOverlay(picker: HTMLSelectElement): Promise<void> {
    const runFile = picker.value;
    if (!runFile) return;
    try {
      this.overlays.push(await this.host.request<ProbeRunResult>('loadRun', { runFile }));
      this.state.overlays = [...(this.state.overlays ?? []), runFile];
      this.save();
      this.render();
    } catch (e) {
      this.message.textContent = `Cannot load that run: ${(e as Error).message}`;
    }
  }

  private async overlayPicker(bar: HTMLElement): Promise<void> {
    const runs = await this.host.request<{ name: string; runFile: string }[]>('listRuns').catch(() => []);
    const options = runs.filter((r) => !(this.state.overlays ?? []).includes(r.runFile));
    if (!options.length) return;
    const picker = el('select', { 'aria-label': 'Saved run to overlay' }, el('option', { value: '' }, 'Overlay a saved run…'), ...options.map((r) => el('option', { value: r.runFile }, r.name)));
    picker.addEventListener('change', () => void this.addOverlay(picker));
    bar.append(picker);
    if (this.overlays.length) {
      bar.append(button('Clear overlays', () => {
        this.overlays = [];
        this.state.overlays = [];
        this.save();
        this.render();
      }, { secondary: true }));
    }
  }

  private renderRun(run: ProbeRunResult): void {
    const runs = [run, ...this.overlays];
    const best = run.layers[run.bestLayer];
    this.body.append(
      el('div', { class: 'll-probe-summary' },
        `${run.examples} examples (${run.labels.map((l, i) => `${l} ${run.counts[i]}`).join(', ')}), ${run.folds}-fold ${run.grouped ? 'grouped ' : 'stratified '}CV, pooling ${run.pooling}. `,
        `Best layer ${layerLabel(best.name)}: accuracy ${fmt(best.accuracy.mean * 100)}% [${fmt(best.accuracy.lo * 100)}, ${fmt(best.accuracy.hi * 100)}], selectivity ${fmt(best.selectivity * 100)} points; concept depth ${layerLabel(run.layers[run.conceptDepth].name)}. `,
        `Majority ${fmt(run.majority.mean * 100)}%, random features ${fmt(run.randomFeatures.mean * 100)}%. `,
        run.extraction.cached ? 'Activations from cache.' : `Activations ${fmt(run.extraction.examplesPerSecond)} examples/s.`),
    );
    if (run.skipped.length) {
      this.body.append(el('div', { class: 'll-probe-note' }, `${run.skipped.length} malformed row(s) skipped: ${run.skipped.slice(0, 10).map((s) => `line ${s.line} (${s.reason})`).join('; ')}${run.skipped.length > 10 ? '; …' : ''}`));
    }
    const bar = el('div', { class: 'll-probe-bar' },
      button('CSV', () => exportCsv(this.host, runCsvRows(runs, this.state.zeroShot), 'probe-layers'), { secondary: true, title: 'Export the per-layer numbers as CSV' }),
      button('JSON', () => exportJson(this.host, runs.length === 1 ? { ...run, zeroShot: this.state.zeroShot } : runs, 'probe-run'), { secondary: true, title: 'Export the run as JSON' }));
    this.body.append(bar);
    void this.overlayPicker(bar);

    this.body.append(el('h3', {}, runs.length > 1 ? `Probe accuracy per layer: ${runs.map(runLabel).join(' | ')}` : 'Probe accuracy per layer'));
    const curve = new Chart(this.body, this.host, { label: 'Probe accuracy per layer with baselines', exportName: 'probe-accuracy' });
    curve.setOption(curveOption(runs, ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => this.host.cssVar(`--vscode-charts-${c}`)).filter(Boolean), this.state.zeroShot));
    const pickLayer = (chart: typeof curve.instance) =>
      chart.on('click', (p: { dataIndex?: number }) => {
        if (p.dataIndex === undefined) return;
        this.state.confusionLayer = p.dataIndex;
        this.save();
        this.renderConfusion(run, confusion);
      });
    pickLayer(curve.instance);
    curve.onRebuild = pickLayer;
    this.charts.push(curve);

    this.body.append(this.zeroShotSection(run));

    const confusion = el('section', { 'aria-label': 'Confusion matrix' });
    this.body.append(confusion);
    this.renderConfusion(run, confusion);

    this.body.append(el('h3', {}, 'Representation per layer'));
    const rep = new Chart(this.body, this.host, { label: 'Prompt entropy and curvature per layer', height: '240px', exportName: 'probe-representation' });
    rep.setOption(representationOption(run));
    this.charts.push(rep);
    this.body.append(el('h3', {}, 'Linear CKA between layers'));
    const cka = new Chart(this.body, this.host, { label: 'Linear CKA between layers', height: '320px', exportName: 'probe-cka' });
    cka.setOption(ckaOption(run));
    this.charts.push(cka);
  }

  /** The zero-shot baseline: one word per label, scored as the model's own next word after each text. */
  private zeroShotSection(run: ProbeRunResult): HTMLElement {
    const section = el('section', { class: 'll-probe-zeroshot', 'aria-label': 'Zero-shot baseline' });
    const words = { ...(this.state.zeroShotWords ?? {}) };
    const inputs = run.labels.map((label) => {
      const input = el('input', { type: 'text', value: words[label] ?? '', placeholder: 'word', 'aria-label': `Word for ${label}` });
      input.addEventListener('input', () => (words[label] = input.value));
      return el('label', {}, `${label} → `, input);
    });
    const status = el('span', { role: 'status' });
    const z = this.state.zeroShot;
    if (z) {
      const scored = run.labels.map((l) => `${l} → ${JSON.stringify(z.tokens[l]?.text ?? z.words[l])}`).join(', ');
      status.textContent = `Zero-shot (the model's own next word: ${scored}): ${fmt(z.accuracy * 100)}% of ${z.examples} examples; mean P(true word) ${fmt(z.meanTrueProb)}.`;
    }
    const score = button('Score zero-shot', () => {
      status.textContent = 'Scoring the model’s next words…';
      this.host.request<ZeroShotResult>('zeroShot', { words }).then(
        (result) => {
          this.state.zeroShot = result;
          this.state.zeroShotWords = words;
          this.save();
          this.render();
        },
        (e: Error) => (status.textContent = `Zero-shot failed: ${e.message}`),
      );
    }, { secondary: true, title: 'Score the zero-shot baseline with these words' });
    section.append(
      el('h3', {}, 'Zero-shot baseline'),
      el('p', { class: 'll-probe-note' }, 'Does the model already say it? Give the word that would follow each text for each label; each example is classified by which word the model finds most likely next.'),
      el('div', { class: 'll-probe-bar' }, ...inputs, score),
      status,
    );
    return section;
  }

  private renderConfusion(run: ProbeRunResult, section: HTMLElement): void {
    const layer = Math.min(this.state.confusionLayer ?? run.bestLayer, run.layers.length - 1);
    const l = run.layers[layer];
    const picker = select('Confusion matrix at layer', run.layers.map((x, i) => ({ value: String(i), label: layerLabel(x.name) })), String(layer), (v) => {
      this.state.confusionLayer = Number(v);
      this.save();
      this.renderConfusion(run, section);
    });
    const t = el('table', {}, el('caption', {}, `Confusion at ${layerLabel(l.name)} (rows: true label, columns: predicted; summed over test folds). Macro-F1 ${fmt(l.macroF1.mean)}, λ ${fmt(l.lambda)}.`));
    t.append(el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, ''), ...run.labels.map((x) => el('th', { scope: 'col' }, x)))));
    const tb = el('tbody');
    l.confusion.forEach((row, i) => tb.append(el('tr', {}, el('th', { scope: 'row' }, run.labels[i]), ...row.map((c) => el('td', {}, String(c))))));
    t.append(tb);
    section.replaceChildren(el('div', { class: 'll-probe-bar' }, picker), t);
  }

  // ------------------------------------------------------------------ readout

  private renderReadout(r: ProbeReadoutResult): void {
    const cls = Math.min(this.state.readoutClass ?? 0, r.labels.length - 1);
    this.body.append(el('div', { class: 'll-probe-summary' }, `Probes trained on ${r.probe.datasetName} (${r.probe.pooling} pooling, ${r.probe.modelName}); best layer ${layerLabel(r.layerNames[r.probe.bestLayer])}. Each cell: P(${r.labels[cls]}) of that layer's probe at that token.`));
    const bar = el('div', { class: 'll-probe-bar' },
      select('Class', r.labels.map((l, i) => ({ value: String(i), label: l })), String(cls), (v) => {
        this.state.readoutClass = Number(v);
        this.save();
        this.render();
      }),
      button('PNG', () => this.host.exportFile('png', this.heatmap?.pngBase64() ?? '', 'base64', 'probe-readout.png'), { secondary: true, title: 'Export the heatmap as PNG' }),
      button('SVG', () => this.host.exportFile('svg', this.heatmap?.svg() ?? '', 'utf8', 'probe-readout.svg'), { secondary: true, title: 'Export the heatmap as SVG' }),
      button('CSV', () => exportCsv(this.host, readoutCsvRows(r), 'probe-readout'), { secondary: true, title: 'Export the probabilities as CSV' }),
      button('JSON', () => exportJson(this.host, r, 'probe-readout'), { secondary: true, title: 'Export the readout as JSON' }));
    this.body.append(bar);
    this.heatmap = new Heatmap(this.body, this.host, {
      label: `Probability of ${r.labels[cls]} per layer and token`,
      scale: 'sequential',
      bottomUp: true,
      onHover: (cell) => this.host.hoverToken(cell ? cell.col : null),
      onClick: (cell) => this.host.selectToken(cell.col),
      describe: (c) => `${layerLabel(r.layerNames[c.row])}, token ${c.col} "${r.tokens[c.col]?.text ?? ''}": P(${r.labels[cls]}) ${r.probs[c.row][c.col][cls].toFixed(3)}`,
    });
    this.heatmap.setData({
      rows: r.layerNames.length,
      cols: r.tokens.length,
      rowLabels: r.layerNames.map((n, i) => `${layerLabel(n)} (${Math.round(r.probe.accuracy[i] * 100)}%)`),
      colLabels: r.tokens.map((t) => visibleWhitespace(t.text)),
      value: (row, col) => r.probs[row][col][cls],
      text: (row, col) => r.probs[row][col][cls].toFixed(2).replace(/^0/, ''),
    });
  }
}

export const view: ViewModule = {
  mount: (root, host, init) => new ProbeView(root, host, init),
};
