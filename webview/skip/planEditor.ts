// Plan editor tab: build a plan (toggle blocks' attention / MLP, reorder by drag or Alt+↑/↓, repeat,
// remove, add), save it by name, run it: continuation of the modified model next to the original
// and the KL per prompt token.
import { identityPlan, type ExecutionPlan, type PlanRunResult, type SavedPlan } from '../../protocol';
import { Chart } from '../components/chart';
import { tokenLabels } from './charts';
import { button, el, fmt, numberInput } from '../components/dom';
import { addBlock, describePlan, moveSlot, removeSlot, repeatSlot, toggleSublayer } from './planOps';
import type { Section, TabContext } from './view';

interface EditorState {
  plan?: ExecutionPlan;
  planName?: string;
  planTokens?: number;
  savedPlans?: SavedPlan[];
}

export function renderPlanEditor(root: HTMLElement, ctx: TabContext, separable: boolean[] | undefined): Section {
  const state = ctx.state as typeof ctx.state & EditorState;
  const L = ctx.numLayers;
  let plan = state.plan ?? identityPlan(L);
  const setPlan = (p: ExecutionPlan, focusSlot?: number) => {
    plan = p;
    state.plan = p;
    ctx.save();
    drawList(focusSlot);
  };

  const list = el('ol', { class: 'll-skip-plan', 'aria-label': 'Plan slots (Alt+Up / Alt+Down to move a slot)' });
  let dragFrom = -1;
  const drawList = (focusSlot?: number) => {
    list.replaceChildren(
      ...plan.slots.map((s, i) => {
        const li = el('li', { draggable: 'true', tabindex: 0, class: 'll-skip-slot', 'aria-label': `slot ${i}: block ${s.layer}` });
        const check = (part: 'attn' | 'mlp') => {
          const canSplit = separable?.[s.layer] ?? true;
          const c = el('input', { type: 'checkbox', checked: s[part] !== false, disabled: !canSplit, 'aria-label': `${part} of block ${s.layer}` });
          c.addEventListener('change', () => setPlan(toggleSublayer(plan, i, part)));
          return el('label', {}, c, part === 'attn' ? ' attention' : ' MLP');
        };
        li.append(
          el('span', { class: 'll-skip-slot-name' }, `block ${s.layer}`),
          check('attn'),
          check('mlp'),
          button('↑', () => setPlan(moveSlot(plan, i, -1), i - 1), { secondary: true, title: `move slot ${i} up` }),
          button('↓', () => setPlan(moveSlot(plan, i, 1), i + 1), { secondary: true, title: `move slot ${i} down` }),
          button('×2', () => setPlan(repeatSlot(plan, i)), { secondary: true, title: `repeat block ${s.layer}` }),
          button('✕', () => setPlan(removeSlot(plan, i)), { secondary: true, title: `remove slot ${i}` }),
        );
        li.addEventListener('keydown', (e) => {
          if (e.target !== li || !e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
          e.preventDefault();
          const d = e.key === 'ArrowUp' ? -1 : 1;
          setPlan(moveSlot(plan, i, d), Math.max(0, Math.min(plan.slots.length - 1, i + d)));
        });
        li.addEventListener('dragstart', () => (dragFrom = i));
        li.addEventListener('dragover', (e) => e.preventDefault());
        li.addEventListener('drop', (e) => {
          e.preventDefault();
          if (dragFrom >= 0 && dragFrom !== i) setPlan(moveSlot(plan, dragFrom, i - dragFrom));
          dragFrom = -1;
        });
        return li;
      }),
    );
    summary.textContent = `Plan: ${describePlan(plan)}`;
    if (focusSlot !== undefined) (list.children[focusSlot] as HTMLElement | undefined)?.focus();
  };
  const summary = el('p', { class: 'll-skip-summary ll-mono' });

  const addSel = el('select', { 'aria-label': 'Block to add' });
  for (let l = 0; l < L; l++) addSel.append(el('option', { value: l }, `block ${l}`));
  const name = el('input', { type: 'text', value: state.planName ?? '', placeholder: 'plan name', 'aria-label': 'Plan name' });
  name.addEventListener('change', () => {
    state.planName = name.value;
    ctx.save();
  });
  const saved = el('select', { 'aria-label': 'Saved plans' });
  const drawSaved = () => {
    saved.replaceChildren(el('option', { value: '' }, '(saved plans)'), ...(state.savedPlans ?? []).map((p) => el('option', { value: p.name }, p.name)));
  };
  const status = el('p', { role: 'status' });
  const fail = (e: Error) => (status.textContent = `Failed: ${e.message}`);
  const updateSaved = (list: SavedPlan[]) => {
    state.savedPlans = list;
    ctx.save();
    drawSaved();
  };
  ctx.host.request<SavedPlan[]>('listPlans').then(updateSaved, fail);

  root.append(
    el('div', { class: 'll-skip-controls' },
      addSel,
      button('Add block', () => setPlan(addBlock(plan, Number(addSel.value)))),
      button('Reset to the model', () => setPlan(identityPlan(L)), { secondary: true }),
    ),
    list,
    summary,
    el('div', { class: 'll-skip-controls' },
      name,
      button('Save plan', () => {
        if (!name.value.trim()) return void (status.textContent = 'Give the plan a name first.');
        ctx.host.request<SavedPlan[]>('savePlan', { name: name.value.trim(), plan: { ...plan, name: name.value.trim() } }).then((l) => {
          updateSaved(l);
          status.textContent = `Saved "${name.value.trim()}".`;
        }, fail);
      }, { secondary: true }),
      saved,
      button('Load', () => {
        const p = state.savedPlans?.find((x) => x.name === saved.value);
        if (p) {
          name.value = p.name;
          state.planName = p.name;
          setPlan(p.plan);
        }
      }, { secondary: true }),
      button('Delete', () => {
        if (saved.value) ctx.host.request<SavedPlan[]>('deletePlan', { name: saved.value }).then(updateSaved, fail);
      }, { secondary: true }),
    ),
    el('div', { class: 'll-skip-controls' },
      numberInput('New tokens', state.planTokens ?? 32, { min: 1, max: 256 }, (v) => {
        state.planTokens = v;
        ctx.save();
      }),
      button('Run plan', () => {
        status.textContent = 'Running…';
        ctx.host.request<PlanRunResult>('runPlan', { plan, maxNewTokens: state.planTokens ?? 32 }).then((res) => {
          ctx.state.planRun = res;
          ctx.save();
          ctx.refresh();
        }, fail);
      }),
    ),
    status,
  );
  drawList();
  drawSaved();

  const r = ctx.state.planRun;
  const charts: Chart[] = [];
  if (r) {
    root.append(
      el('p', { class: 'll-skip-summary' }, `Last run: ${describePlan(r.plan)} — top-1 agreement ${(100 * r.top1).toFixed(1)}%, cross-entropy ${fmt(r.ce)} vs ${fmt(r.baseCe)} nats.`),
      el('div', { class: 'll-skip-compare' },
        el('section', {}, el('h3', {}, 'Original model'), continuation(r.original)),
        el('section', {}, el('h3', {}, 'Modified plan'), continuation(r.modified)),
      ),
    );
    const c = new Chart(root, ctx.host, { label: 'KL per prompt token', exportName: 'skip-plan-kl', height: '260px' });
    c.setOption({
      title: { text: 'KL(original ‖ plan) per prompt token', left: 'center', textStyle: { fontSize: 13, fontWeight: 'normal' } },
      tooltip: { trigger: 'axis' },
      grid: { left: 64, right: 24, top: 40, bottom: 64 },
      xAxis: { type: 'category', data: tokenLabels(r.tokens, r.klPerToken.length), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: 'nats' },
      series: [{ type: 'bar', data: r.klPerToken }],
      animation: false,
    });
    charts.push(c);
  }
  return {
    name: 'skip-plan',
    parts: charts,
    csv: () => (r ? [['token', 'kl'], ...r.klPerToken.map((k, i) => [tokenLabels(r.tokens, r.klPerToken.length)[i], k])] : [['slot', 'layer', 'attn', 'mlp'], ...plan.slots.map((s, i) => [i, s.layer, s.attn !== false, s.mlp !== false])]),
    json: () => ({ plan, run: r }),
  };
}

/** A generated continuation; an empty one says so (e.g. the model ended the text at once). */
function continuation(c: { ids: number[]; text: string }): HTMLElement {
  return el('pre', { class: 'll-mono' }, c.text.trim() ? c.text : `⟨no text: ${c.ids.length} token(s), the model ended the text⟩`);
}
