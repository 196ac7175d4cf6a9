// Self-speculative decoding tab: choose a drafting mode, run, and see the generated tokens coloured
// by origin (accepted draft / verifier's own token), acceptance, costs and tokens/s vs plain greedy.
import type { SelfSpecResult } from '../../protocol';
import { MODE_LABELS, specRequest, type ModeKind, type SpecForm } from './specForm';
import { button, el, fmt, numberInput, select, table } from '../components/dom';
import type { Section, TabContext } from './view';

export function renderSelfSpec(root: HTMLElement, ctx: TabContext): Section {
  const state = ctx.state as typeof ctx.state & { specForm?: SpecForm };
  const L = ctx.numLayers;
  const f: SpecForm = state.specForm ?? { kind: 'earlyExit', exitLayer: Math.max(0, Math.floor(L / 2) - 1), skip: String(Math.floor(L / 2)), draftLength: 4, adaptive: true, maxNewTokens: 48, temperature: 0 };
  const set = <K extends keyof SpecForm>(k: K, v: SpecForm[K], rerender = false) => {
    state.specForm = { ...f, [k]: v };
    f[k] = v;
    ctx.save();
    if (rerender) ctx.refresh();
  };
  const status = el('p', { role: 'status' });
  const form = el('div', { class: 'll-skip-controls' },
    select('Draft', (Object.keys(MODE_LABELS) as ModeKind[]).map((k) => ({ value: k, label: MODE_LABELS[k] })), f.kind, (v) => set('kind', v, true)),
  );
  if (f.kind === 'earlyExit') form.append(numberInput('Exit after block', f.exitLayer, { min: 0, max: L - 2 }, (v) => set('exitLayer', v)));
  if (f.kind === 'skipSet') {
    const input = el('input', { type: 'text', value: f.skip, 'aria-label': 'Blocks to skip, comma separated' });
    input.addEventListener('change', () => set('skip', input.value));
    form.append(el('label', { class: 'll-skip-field' }, 'Skip blocks ', input));
  }
  const adaptive = el('input', { type: 'checkbox', checked: f.adaptive });
  adaptive.addEventListener('change', () => set('adaptive', adaptive.checked, true));
  form.append(el('label', { class: 'll-skip-field' }, adaptive, ' adaptive draft length'));
  if (!f.adaptive) form.append(numberInput('Draft length', f.draftLength, { min: 1, max: 16 }, (v) => set('draftLength', v)));
  form.append(
    numberInput('New tokens', f.maxNewTokens, { min: 1, max: 512 }, (v) => set('maxNewTokens', v)),
    numberInput('Temperature', f.temperature, { min: 0, max: 2, step: 0.1 }, (v) => set('temperature', v)),
    button('Run', () => {
      status.textContent = 'Running plain greedy and self-speculative decoding…';
      ctx.host.request<SelfSpecResult>('selfSpec', specRequest(f)).then(
        (res) => {
          ctx.state.selfSpec = res;
          ctx.save();
          ctx.refresh();
        },
        (e: Error) => (status.textContent = `Failed: ${e.message}`),
      );
    }),
  );
  root.append(form, status);
  const r = ctx.state.selfSpec;
  if (!r) return { name: 'skip-self-spec', parts: [], csv: () => [], json: () => null };

  const s = r.spec;
  root.append(
    el('p', { class: 'll-skip-summary' },
      `${fmt(s.tokensPerSec)} tokens/s self-speculative vs ${fmt(r.greedy.tokensPerSec)} tokens/s plain greedy: ` +
      `${r.speedup >= 1 ? `${r.speedup.toFixed(2)}× faster` : `${(1 / r.speedup).toFixed(2)}× slower`}` +
      (r.equalsGreedy === undefined ? ' (sampled)' : r.equalsGreedy ? '; output identical to greedy ✓' : '; output DIFFERS from greedy ✗')),
  );
  const legend = el('p', { class: 'll-skip-legend' }, el('span', { class: 'll-skip-tok accepted' }, 'accepted draft'), ' ', el('span', { class: 'll-skip-tok corrected' }, 'verifier token'));
  const text = el('div', { class: 'll-skip-tokens ll-mono', 'aria-label': 'Generated tokens by origin' });
  for (const t of r.tokens) {
    text.append(el('span', { class: `ll-skip-tok ${t.origin}`, title: `round ${t.round}: ${t.origin} (id ${t.id})` }, t.text));
  }
  root.append(legend, text);
  root.append(table('Run', ['', 'value'], [
    ['draft', r.draft.name ?? ''],
    ['rounds', s.rounds],
    ['drafted tokens', s.drafted],
    ['accepted tokens', s.accepted],
    ['acceptance rate', s.acceptanceRate],
    ['mean accepted length', s.meanAcceptedLength],
    ['draft time (ms)', s.draftMs],
    ['verify time (ms)', s.verifyMs],
    ['self-spec tokens/s', s.tokensPerSec],
    ['greedy tokens/s', r.greedy.tokensPerSec],
    ['speedup', r.speedup],
  ]));
  if (r.searchLog?.length) root.append(table('Skip-set search (measured on this prompt)', ['skip set', 'tokens/s'], r.searchLog.map((x) => [x.skip.join(', '), x.tokensPerSec])));
  if (r.exitLayers?.length) root.append(el('p', {}, `Exit block per round: ${r.exitLayers.join(' ')}`));
  return {
    name: 'skip-self-spec',
    parts: [],
    csv: () => [['index', 'id', 'text', 'origin', 'round'], ...r.tokens.map((t, i) => [i, t.id, t.text, t.origin, t.round])],
    json: () => r,
  };
}
