// Early-exit tab: curve of blocks used vs agreement per rule, and the exit block of each prompt
// token for a chosen rule and threshold over the logit-lens confidence heatmap.
import type { EarlyExitResult, ExitRule } from '../../protocol';
import { Chart } from '../components/chart';
import { exitCurveOption, exitHeatmapOption, RULE_LABELS, tokenLabels } from './charts';
import { button, el, select, table } from './dom';
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
    return { name: 'skip-early-exit', charts: [], csv: () => [], json: () => null };
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
  const heat = new Chart(root, ctx.host, { label: 'Exit block per token', exportName: 'skip-early-exit-tokens', height: `${Math.max(240, 26 * r.numLayers + 120)}px` });
  const draw = (cursor: number | null) => heat.setOption(exitHeatmapOption(r, ctx.tokens, rule.exitLayers[ti], ctx.scale(), cursor));
  draw(ctx.cursor);
  root.append(table('Blocks used vs agreement', ['τ', 'mean blocks', 'agreement'], rule.curve.map((c) => [c.threshold, c.avgLayers, c.agreement])));
  const T = r.maxProb[0]?.length ?? 0;
  return {
    name: 'skip-early-exit',
    charts: [curve, heat],
    csv: () => [
      ['rule', 'threshold', 'avg_blocks', 'agreement', ...tokenLabels(ctx.tokens, T).map((t) => `exit@${t}`)],
      ...r.rules.flatMap((x) => x.curve.map((c, i) => [x.rule, c.threshold, c.avgLayers, c.agreement, ...x.exitLayers[i]])),
    ],
    json: () => r,
    cursor: draw,
  };
}
