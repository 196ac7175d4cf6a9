// Early-exit tab: curve of blocks used vs agreement per rule, and the exit block of each prompt
// token for a chosen rule and threshold over the logit-lens confidence heatmap.
import type { EarlyExitResult, ExitRule } from '../../protocol';
import { Chart } from '../components/chart';
import { exitCurveOption, RULE_LABELS, tokenLabels } from './charts';
import { heatGrid } from './grid';
import { button, el, select, table } from '../components/dom';
import type { Section, TabContext } from './view';

export function renderEarlyExit(root: HTMLElement, ctx: TabContext): Section {
  const r = ctx.state.earlyExit;
  if (!r) {
    const status = el('p', { role: 'status' }, 'Simulate early exit (CALM / DEL style) on this prompt with the logit lens.');
    root.append(status, button('Run the early-exit simulator', () => {
      status.textContent = 'Running…';
      ctx.host.request<EarlyExitResult>('earlyExit').then(
        (res) => {
          ctx.state.earlyExit = res;
          ctx.save();
          ctx.refresh();
        },
        (e: Error) => (status.textContent = `Failed: ${e.message}`),
      );
    }));
    return { name: 'skip-early-exit', parts: [], csv: () => [], json: () => null };
  }
  const state = ctx.state as typeof ctx.state & { exitRule?: ExitRule; exitThreshold?: number };
  const ruleId = state.exitRule ?? 'maxProb';
  const rule = r.rules.find((x) => x.rule === ruleId) ?? r.rules[0];
  const ti = Math.max(0, rule.curve.findIndex((c) => c.threshold === state.exitThreshold));
  const curve = new Chart(root, ctx.host, { label: 'Early exit curve', exportName: 'skip-early-exit-curve' });
  curve.setOption(exitCurveOption(r));
  root.append(
    el('div', { class: 'll-skip-controls' },
      select('Rule', r.rules.map((x) => ({ value: x.rule, label: RULE_LABELS[x.rule] })), rule.rule, (v) => {
        state.exitRule = v;
        state.exitThreshold = undefined;
        ctx.save();
        ctx.refresh();
      }),
      select('τ', rule.curve.map((c) => ({ value: String(c.threshold), label: `${c.threshold} (${c.avgLayers.toFixed(2)} blocks, ${(100 * c.agreement).toFixed(1)}% agree)` })), String(rule.curve[ti].threshold), (v) => {
        state.exitThreshold = Number(v);
        ctx.save();
        ctx.refresh();
      }),
    ),
  );
  const T = r.maxProb[0]?.length ?? 0;
  const exits = rule.exitLayers[ti];
  const heat = heatGrid(root, ctx.host, {
    label: 'Logit-lens max probability per block and token; ◆ marks the exit block',
    name: 'skip-early-exit-tokens',
    rowLabels: Array.from({ length: r.numLayers }, (_, l) => `block ${l}`),
    colLabels: tokenLabels(ctx.tokens, T),
    values: r.maxProb,
    text: (row, col) => `${exits[col] === row ? '◆ ' : ''}${(100 * r.maxProb[row][col]).toFixed(0)}%`,
    tokenColumns: true,
    highlightCol: ctx.cursor,
  });
  root.append(table('Blocks used vs agreement', ['τ', 'mean blocks', 'agreement'], rule.curve.map((c) => [c.threshold, c.avgLayers, c.agreement])));
  return {
    name: 'skip-early-exit',
    parts: [curve, heat],
    csv: () => [
      ['rule', 'threshold', 'avg_blocks', 'agreement', ...tokenLabels(ctx.tokens, T).map((t) => `exit@${t}`)],
      ...r.rules.flatMap((x) => x.curve.map((c, i) => [x.rule, c.threshold, c.avgLayers, c.agreement, ...x.exitLayers[i]])),
    ],
    json: () => r,
    cursor: (c) => heat.setHighlightCol(c),
  };
}
