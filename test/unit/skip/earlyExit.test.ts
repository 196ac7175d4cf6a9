import assert from 'node:assert/strict';
import { test } from 'node:test';
import { earlyExit, exitLayer, exitRuleResult, lensStats, type LensStats } from '../../../native/analyses/skip/earlyExit';
import { earlyExitPlan } from '../../../native/analyses/skip/plans';
import { ToyEngine } from './toyEngine';

const stats: LensStats = {
  // 3 layers x 2 tokens
  maxProb: [[0.2, 0.9], [0.6, 0.95], [0.7, 0.99]],
  entropy: [[3, 0.4], [1, 0.2], [0.5, 0.1]],
  top1: [[5, 1], [7, 1], [7, 2]],
};

test('exit rules fire at the first qualifying block, else at the last', () => {
  assert.equal(exitLayer(stats, 'maxProb', 0.5, 0), 1);
  assert.equal(exitLayer(stats, 'maxProb', 0.5, 1), 0);
  assert.equal(exitLayer(stats, 'maxProb', 0.99, 0), 2);
  assert.equal(exitLayer(stats, 'entropy', 1, 0), 1);
  assert.equal(exitLayer(stats, 'stable', 2, 0), 2);
  assert.equal(exitLayer(stats, 'stable', 2, 1), 1);
  assert.equal(exitLayer(stats, 'stable', 1, 0), 0);
  const r = exitRuleResult(stats, 'maxProb', [0.5, 2]);
  assert.deepEqual(r.exitLayers, [[1, 0], [2, 2]]);
  assert.deepEqual(r.curve[0], { threshold: 0.5, avgLayers: 1.5, agreement: 0.5 });
  assert.deepEqual(r.curve[1], { threshold: 2, avgLayers: 3, agreement: 1 });
});

test('simulated exits predict what a plan exiting at that block predicts', async () => {
  const engine = new ToyEngine({ layers: 4, seed: 12 });
  const ids = [3, 7, 1, 12, 5, 9, 2];
  const res = await earlyExit(engine, { ids });
  assert.deepEqual(res.rules.map((r) => r.rule), ['maxProb', 'entropy', 'stable']);
  assert.deepEqual(res.agreesWithFinal[3], ids.map(() => 1));
  const byExit = await Promise.all([0, 1, 2, 3].map(async (e) => (await engine.forward(ids, { plan: earlyExitPlan(4, e) })).logits!));
  for (const rule of res.rules) {
    rule.curve.forEach((pt, i) => {
      let agree = 0;
      ids.forEach((_, t) => {
        const e = rule.exitLayers[i][t];
        const l = byExit[e].data.subarray(t * byExit[e].cols, (t + 1) * byExit[e].cols);
        const f = byExit[3].data.subarray(t * byExit[3].cols, (t + 1) * byExit[3].cols);
        if (l.indexOf(Math.max(...l)) === f.indexOf(Math.max(...f))) agree++;
      });
      assert.ok(Math.abs(pt.agreement - agree / ids.length) < 1e-12, `${rule.rule} ${pt.threshold}`);
    });
  }
  for (let l = 0; l < 4; l++) {
    res.maxProb[l].forEach((p, t) => {
      const row = Array.from(byExit[l].data.subarray(t * byExit[l].cols, (t + 1) * byExit[l].cols));
      const m = Math.max(...row);
      assert.ok(Math.abs(p - 1 / row.reduce((s, x) => s + Math.exp(x - m), 0)) < 1e-5);
    });
  }
});

test('a custom lens function gives the same statistics as the built-in logit lens when it is the logit lens', async () => {
  const engine = new ToyEngine({ layers: 3, seed: 4 });
  const ids = [2, 9, 4, 4, 7];
  const builtIn = await lensStats(engine, ids);
  const custom = await lensStats(engine, ids, (_layer, residual) => engine.head(residual));
  assert.deepEqual(custom.top1, builtIn.top1);
  custom.maxProb.forEach((r, l) => r.forEach((p, t) => assert.ok(Math.abs(p - builtIn.maxProb[l][t]) < 1e-5)));
  custom.entropy.forEach((r, l) => r.forEach((h, t) => assert.ok(Math.abs(h - builtIn.entropy[l][t]) < 1e-4)));
});
