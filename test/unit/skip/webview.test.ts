// The skip panel's pure parts: plan edits and chart options built from a real sweep result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityPlan } from '../../../protocol';
import { layerSweep } from '../../../native/analyses/skip/sweep';
import { importanceOption, metricValue, scaleOf, swapMatrix } from '../../../webview/skip/charts';
import { addBlock, describePlan, moveSlot, removeSlot, repeatSlot, toggleSublayer } from '../../../webview/skip/planOps';
import { specRequest } from '../../../webview/skip/specForm';
import { ToyEngine } from './toyEngine';

test('plan edits: toggle, move, repeat, remove, add, describe', () => {
  let p = identityPlan(4);
  p = toggleSublayer(p, 2, 'mlp');
  assert.equal(describePlan(p), '0 1 [2 −mlp] 3');
  p = moveSlot(p, 0, 1);
  assert.deepEqual(p.slots.map((s) => s.layer), [1, 0, 2, 3]);
  assert.equal(moveSlot(p, 0, -1), p);
  p = repeatSlot(p, 3);
  assert.deepEqual(p.slots.map((s) => s.layer), [1, 0, 2, 3, 3]);
  p = removeSlot({ ...p, exitAfter: 4 }, 4);
  assert.equal(p.exitAfter, undefined);
  assert.deepEqual(addBlock(p, 0).slots.map((s) => s.layer), [1, 0, 2, 3, 0]);
  assert.equal(removeSlot({ slots: [{ layer: 0 }] }, 0).slots.length, 1);
  assert.equal(toggleSublayer(toggleSublayer(p, 0, 'attn'), 0, 'attn').slots[0].attn, true);
});

test('chart options carry the sweep numbers', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 3 });
  const ids = [3, 7, 1, 12, 5, 9];
  const r = { analysis: 'sweep' as const, tokens: ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 })), elapsedMs: 0, ...(await layerSweep(engine, { texts: [ids], answerIndex: 3, options: { allSwaps: true } })) };
  const opt = importanceOption(r, 'kl');
  assert.deepEqual(opt.series.map((s) => s.name), ['skip block', 'skip attention', 'skip MLP']);
  const skipKl = r.entries.filter((e) => e.kind === 'skip').map((e) => e.kl);
  assert.deepEqual(opt.series[0].data, skipKl);
  const dce = importanceOption(r, 'dce').series[0].data;
  dce.forEach((v, i) => assert.ok(Math.abs(v! - (r.entries[i].ce - r.baseCe)) < 1e-12));
  assert.equal(metricValue(r.entries[0], 'answer', r.baseCe), r.entries[0].answer!.logprob - r.entries[0].answer!.baseLogprob);
  const m = swapMatrix(r, 'kl');
  assert.equal(m[0][3], r.entries.find((e) => e.kind === 'swap' && e.layers.join() === '0,3')!.kl);
  assert.equal(m[3][0], m[0][3]);
  assert.equal(m[1][1], null);
  const scale = scaleOf(m);
  const kls = r.entries.filter((e) => e.kind === 'swap').map((e) => e.kl);
  assert.equal(scale(Math.min(...kls)), 0);
  assert.equal(scale(Math.max(...kls)), 1);
  assert.ok(Number.isNaN(scale(null)));
});

test('self-spec form to request', () => {
  const f = { kind: 'skipSet' as const, exitLayer: 1, skip: '1, 3', draftLength: 4, adaptive: false, maxNewTokens: 20, temperature: 0 };
  assert.deepEqual(specRequest(f), { mode: { kind: 'skipSet', skip: [1, 3] }, draftLength: 4, maxNewTokens: 20, temperature: 0 });
  assert.deepEqual(specRequest({ ...f, kind: 'earlyExit', adaptive: true }).mode, { kind: 'earlyExit', exitLayer: 1 });
  assert.equal(specRequest({ ...f, kind: 'dynamicExit', adaptive: true }).draftLength, 'adaptive');
});
