import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selfSpeculative, BadDraftError, searchSkipSet } from '../../../native/analyses/skip/selfSpec';
import { runPlan, BadPlanError } from '../../../native/analyses/skip/planRun';
import { decode } from '../../../native/analyses/skip/speculative';
import { skipPlan } from '../../../native/analyses/skip/plans';
import type { DraftMode } from '../../../protocol/skip';
import { ToyEngine } from './toyEngine';

const prompt = [3, 7, 1, 12, 5];

test('every drafting mode is lossless and reports its measurements', async () => {
  const engine = new ToyEngine({ layers: 5, seed: 21 });
  const modes: DraftMode[] = [{ kind: 'earlyExit', exitLayer: 2 }, { kind: 'skipSet', skip: [1, 3] }, { kind: 'searchSkipSet' }, { kind: 'dynamicExit' }];
  for (const mode of modes) {
    const res = await selfSpeculative(engine, { prompt, mode, maxNewTokens: 12, draftLength: 3 });
    assert.equal(res.equalsGreedy, true, mode.kind);
    assert.deepEqual(res.ids, res.greedy.ids);
    assert.ok(res.spec.tokensPerSec > 0 && res.greedy.tokensPerSec > 0);
    assert.ok(Math.abs(res.speedup - res.spec.tokensPerSec / res.greedy.tokensPerSec) < 1e-12);
    assert.ok(res.spec.acceptanceRate >= 0 && res.spec.acceptanceRate <= 1);
    if (mode.kind === 'searchSkipSet') {
      assert.ok(res.searchLog!.length >= 3);
      assert.ok(res.draft.slots.length < 5);
    }
    if (mode.kind === 'dynamicExit') assert.equal(res.exitLayers!.length, res.spec.rounds);
  }
});

test('the skip-set search keeps the fastest set it measured', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 2 });
  const found = await searchSkipSet(engine, prompt, { maxNewTokens: 8 });
  const best = found.log.reduce((a, b) => (b.tokensPerSec > a.tokensPerSec ? b : a));
  assert.deepEqual(found.skip, best.skip);
  assert.ok(found.skip.every((l) => l >= 1 && l <= 2));
});

test('bad drafting modes are refused with a clear message', async () => {
  const engine = new ToyEngine({ layers: 3 });
  await assert.rejects(selfSpeculative(engine, { prompt, mode: { kind: 'earlyExit', exitLayer: 2 }, maxNewTokens: 4 }), BadDraftError);
  await assert.rejects(selfSpeculative(engine, { prompt, mode: { kind: 'skipSet', skip: [] }, maxNewTokens: 4 }), /empty/);
  await assert.rejects(selfSpeculative(engine, { prompt, mode: { kind: 'skipSet', skip: [0, 1, 2] }, maxNewTokens: 4 }), /every block/);
  await assert.rejects(selfSpeculative(engine, { prompt: [], mode: { kind: 'dynamicExit' }, maxNewTokens: 4 }), /no tokens/);
});

test('a custom plan run compares with the unmodified model', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 31 });
  const plan = skipPlan(4, [1]);
  const res = await runPlan(engine, { ids: prompt, plan, maxNewTokens: 6 });
  assert.deepEqual(res.original, (await decode(engine, prompt, { maxNewTokens: 6 })).ids);
  assert.deepEqual(res.modified, (await decode(engine, prompt, { maxNewTokens: 6, plan })).ids);
  assert.equal(res.klPerToken.length, prompt.length);
  assert.ok(res.klPerToken.every((k) => k >= 0));
  const same = await runPlan(engine, { ids: prompt, plan: { slots: [0, 1, 2, 3].map((layer) => ({ layer })) }, maxNewTokens: 3 });
  assert.ok(same.klPerToken.every((k) => k < 1e-9));
  assert.equal(same.top1, 1);
  assert.deepEqual(same.original, same.modified);
  await assert.rejects(runPlan(engine, { ids: prompt, plan: { slots: [{ layer: 7 }] }, maxNewTokens: 3 }), BadPlanError);
});
