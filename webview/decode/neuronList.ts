// The decode panel for "Decode MLP Neurons": each MLP neuron of a block with the tokens its output
// weights promote (↑) and suppress (↓) through the unembedding; choose the block, search the token
// texts, sort by index or weight norm; CSV / JSON export of what the search keeps.
import type { NeuronDecoding, NeuronsResult, TokenScore } from '../../protocol';
import type { ViewHost, ViewInit, ViewInstance } from '../api';
import { button, el, select } from '../components/dom';
import { exportCsv, exportJson } from '../components/export';
import { visibleWhitespace } from '../components/heatmap';
import { filterNeurons, neuronCsvRows, type NeuronSort } from './model';

/** Rows rendered at once; the search narrows the rest. */
const SHOWN = 500;


interface NeuronListState {
  query?: string;
  sort?: NeuronSort;
}

export class NeuronListView implements ViewInstance {
  private result!: NeuronsResult;
  private readonly state: NeuronListState;
  private readonly summary: HTMLElement;
  private readonly controls: HTMLElement;
  private readonly message: HTMLElement;
  private readonly list: HTMLElement;

  constructor(root: HTMLElement, private readonly host: ViewHost, init: ViewInit) {
    this.state = host.getState<NeuronListState>() ?? {};
    this.summary = el('div', { class: 'll-dec-summary', role: 'status' });
    this.controls = el('div', { class: 'll-dec-controls' });
    this.message = el('div', { class: 'll-dec-error', role: 'alert' });
    this.list = el('div');
    root.append(this.controls, this.summary, this.message, this.list);
    this.update(init);
  }

  update(init: ViewInit): void {
    this.result = init.result as NeuronsResult;
    this.renderControls();
    this.renderList();
  }

  editorCursor(): void {}

  setStale(): void {}

  private save(): void {
    this.host.setState(this.state);
  }

  private async chooseLayer(layer: number): Promise<void> {
    this.message.textContent = `Decoding the neurons of block ${layer}…`;
    try {
      this.result = await this.host.request<NeuronsResult>('neurons', { layer });
      this.message.textContent = '';
    } catch (e) {
      this.message.textContent = (e as Error).message;
    }
    this.renderControls();
    this.renderList();
  }

  private renderControls(): void {
    const r = this.result;
    const search = el('input', { type: 'search', value: this.state.query ?? '', placeholder: 'Search tokens…', 'aria-label': 'Search the promoted and suppressed tokens' });
    search.addEventListener('input', () => {
      this.state.query = search.value;
      this.save();
      this.renderList();
    });
    this.controls.replaceChildren(
      select('Block', Array.from({ length: r.numLayers }, (_, i) => ({ value: String(i), label: `block ${i}` })), String(r.layer), (v) => void this.chooseLayer(Number(v))),
      search,
      select<NeuronSort>('Sort by', [{ value: 'index', label: 'neuron index' }, { value: 'norm', label: 'weight norm' }], this.state.sort ?? 'index', (v) => {
        this.state.sort = v;
        this.save();
        this.renderList();
      }),
      button('CSV', () => exportCsv(this.host, neuronCsvRows(r.layer, this.kept()), `neurons-block-${r.layer}`), { secondary: true, title: 'Export the listed neurons as CSV' }),
      button('JSON', () => exportJson(this.host, { ...r, neurons: this.kept() }, `neurons-block-${r.layer}`), { secondary: true, title: 'Export the listed neurons as JSON' }),
    );
  }

  private kept(): NeuronDecoding[] {
    return filterNeurons(this.result.neurons, this.state.query ?? '', this.state.sort ?? 'index');
  }

  private renderList(): void {
    const r = this.result;
    const kept = this.kept();
    this.summary.textContent =
      `Block ${r.layer}: ${kept.length} of ${r.total} MLP neurons` +
      (kept.length > SHOWN ? ` (the first ${SHOWN} shown; search to narrow)` : '') +
      '. ↑ tokens the neuron promotes, ↓ tokens it suppresses (its output weights through the unembedding).';
    const t = el('table', { class: 'll-dec-table ll-neurons' }, el('caption', {}, `MLP neurons of block ${r.layer}`));
    t.append(el('thead', {}, el('tr', {}, ...['neuron', '‖w‖', '↑ promoted', '↓ suppressed'].map((h) => el('th', { scope: 'col' }, h)))));
    const body = el('tbody');
    const tokens = (ts: TokenScore[]) => el('td', {}, ...ts.map((x) => el('span', { class: 'll-neuron-token', title: `${JSON.stringify(x.text)}: ${x.score.toFixed(3)}` }, visibleWhitespace(x.text))));
    for (const n of kept.slice(0, SHOWN)) {
      body.append(el('tr', {}, el('th', { scope: 'row' }, `#${n.index}`), el('td', {}, n.norm.toFixed(2)), tokens(n.promoted), tokens(n.suppressed)));
    }
    t.append(body);
    this.list.replaceChildren(t);
  }
}
