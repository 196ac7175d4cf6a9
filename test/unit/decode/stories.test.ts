// Lenses on real models (stories260K with real TinyStories weights, and the project's demo model once
// it is built): the ORT lens head against plain JS matmuls on the engine's head weights, the last row
// against the model's own logits, and fitted lenses (shortcut, tuned) against the logit lens on
// held-out text of the demo corpus.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { collectStates, lensGrid, nextTokenTargets } from '../../../native/analyses/decode/lens';
import { evaluateLenses, fitLens } from '../../../native/analyses/decode/fit';
import { parseCorpusFile } from '../../../native/analyses/decode/corpus';
import { loadModel, type LoadedModel } from '../../../native/model/load';
import { refEntropy, refKl, refLogProbs, refTopK } from './reference';

const STORIES = path.resolve(__dirname, '../../../../shared/models/stories260K');
const DEMO = path.resolve(__dirname, '../../../demo/model');
const CORPUS = path.resolve(__dirname, '../../../demo/data/heldout.jsonl');
const demoBuilt = existsSync(path.join(DEMO, 'onnx/model.onnx'));
const models: Record<string, LoadedModel> = {};

before(async () => {
  models.stories260K = await loadModel(STORIES, { id: 'stories', provider: 'cpu' });
  if (demoBuilt) models.demo = await loadModel(DEMO, { id: 'demo', provider: 'cpu' });
});
after(async () => {
  for (const m of Object.values(models)) await m.dispose();
});

for (const name of ['stories260K', 'demo']) {
  test(`logit lens on ${name} matches JS matmuls on the head weights; the last row is the model output`, { skip: name === 'demo' && !demoBuilt && 'the demo model is not built' }, async () => {
    const model = models[name];
    const { ids } = model.encode({ text: 'Once upon a time, there was a little girl named Lily. She' });
    const engine = model.engine;
    const states = await collectStates(engine, ids);
    const targets = nextTokenTargets(ids);
    const k = 5;
    const { grid, targets: resolved } = await lensGrid(engine, states, { targets, k });
    const w = engine.headWeights();
    const d = w.unembed.cols;
    const L = engine.layerMap.numLayers;
    assert.equal(grid.kl.length, L + 1);
    const logits = await engine.forwardMonolithic(ids);
    for (let t = 0; t < ids.length; t++) {
      const out = Array.from(logits.data.subarray(t * logits.cols, (t + 1) * logits.cols));
      const max = Math.max(...out);
      const lse = max + Math.log(out.reduce((s, z) => s + Math.exp(z - max), 0));
      const lpModel = Float64Array.from(out, (z) => z - lse);
      const lpFinal = refLogProbs(w, states[L].data.subarray(t * d, (t + 1) * d));
      // The last row is the model's own next-token distribution.
      for (let v = 0; v < lpModel.length; v++) assert.ok(Math.abs(lpFinal[v] - lpModel[v]) < 1e-4);
      assert.deepEqual(grid.topIds[L][t], refTopK(lpModel, k));
      assert.ok(grid.kl[L][t] < 1e-4);
      if (t === ids.length - 1) assert.equal(resolved[t], refTopK(lpModel, 1)[0]);
      for (let g = 0; g <= L; g++) {
        const lp = refLogProbs(w, states[g].data.subarray(t * d, (t + 1) * d));
        assert.deepEqual(grid.topIds[g][t], refTopK(lp, k), `top-k at layer ${g} token ${t}`);
        grid.topProbs[g][t].forEach((p, j) => assert.ok(Math.abs(p - Math.exp(lp[grid.topIds[g][t][j]])) < 1e-4));
        assert.ok(Math.abs(grid.entropy[g][t] - refEntropy(lp)) < 1e-4);
        assert.ok(Math.abs(grid.kl[g][t] - refKl(lpFinal, lp)) < 1e-4, `kl at layer ${g} token ${t}`);
        assert.ok(Math.abs(grid.targetProb[g][t] - Math.exp(lp[resolved[t]])) < 1e-4);
        assert.equal(grid.targetRank[g][t], lp.filter((x) => x > lp[resolved[t]]).length);
      }
    }
  });

}

function corpusIds(model: LoadedModel, n: number): number[][] {
  const texts = parseCorpusFile('heldout.jsonl', readFileSync(CORPUS, 'utf8')).slice(0, n);
  return texts.map((text) => model.encode({ text }).ids.slice(0, 64));
}

for (const name of ['stories260K', 'demo']) {
  test(`shortcut and tuned lenses beat the logit lens on held-out text (${name})`, { skip: name === 'demo' && !demoBuilt && 'the demo model is not built' }, async () => {
    const model = models[name];
    const texts = corpusIds(model, 30);
    const shortcut = await fitLens(model.engine, texts, { kind: 'shortcut' });
    const tuned = await fitLens(model.engine, texts, { kind: 'tuned', steps: 150, learningRate: 3e-3 });
    const L = model.engine.layerMap.numLayers;
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const [logitEval, shortcutEval] = shortcut.evals;
    const tunedEval = tuned.evals[1];
    const kl = (e: typeof logitEval): number => mean(e.layers.slice(0, L).map((l) => l.kl));
    assert.ok(kl(shortcutEval) < kl(logitEval), `shortcut KL ${kl(shortcutEval)} vs logit ${kl(logitEval)}`);
    assert.ok(kl(tunedEval) < kl(logitEval), `tuned KL ${kl(tunedEval)} vs logit ${kl(logitEval)}`);
    // The last layer is the model itself for every lens; the held-out R² of the shortcut is sane.
    for (const e of [logitEval, shortcutEval, tunedEval]) assert.ok(e.layers[L].kl < 1e-4 && e.layers[L].top1 === 1);
    for (const l of shortcutEval.layers) assert.ok(l.r2! <= 1 && l.r2! > -1);
    assert.ok(tuned.curve!.length > 0 && tuned.curve!.at(-1)!.kl < tuned.curve![0].kl + 1e-9);
    // Re-evaluating the fitted lenses gives the numbers the fit reported.
    const again = await evaluateLenses(model.engine, texts.filter((_, i) => i % 5 === 4), [tuned.lens]);
    assert.ok(Math.abs(again[0].layers[0].kl - tunedEval.layers[0].kl) < 1e-6);
  });
}
