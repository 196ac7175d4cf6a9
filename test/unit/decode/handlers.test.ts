// The decode methods through the real sidecar server (vscode-jsonrpc over in-memory streams) on
// stories260K: lens grids, fitting and caching a lens, neurons and contrastive decoding, bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isLensEvaluation, lensEvalTable } from '../../../protocol';
import { filterNeurons, neuronCsvRows } from '../../../webview/decode/model';
import { startInMemorySidecar, type InMemorySidecar } from '../support/rpc';
import { refTopK } from './reference';

const MODEL = path.resolve(__dirname, '../../../../shared/models/stories260K');
let sidecar: InMemorySidecar;
let modelId: string;
let lensDir: string;
const call: InMemorySidecar['call'] = (method, params, cancel) => sidecar.call(method, params, cancel);

before(async () => {
  sidecar = startInMemorySidecar();
  modelId = (await call('model/load', { path: MODEL, provider: 'cpu' })).id;
  lensDir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-lens-'));
});

after(async () => {
  await sidecar.close();
  rmSync(lensDir, { recursive: true, force: true });
});

const STORIES = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside.',
  'Tom had a big red ball. He liked to throw it to his dog every day.',
  'The sun was shining and the birds were singing. Mia went to the park with her mom.',
  'One day, a cat found a small box. The cat was very curious and opened it.',
  'Ben and Sue were friends. They liked to build tall towers with blocks.',
  'There was a happy frog who lived in a pond. He jumped from leaf to leaf.',
];

test('decode/layers returns a grid per layer and token, with token texts and next-token targets', async () => {
  const text = 'Once upon a time, there was a little dog.';
  const res = await call('decode/layers', { modelId, text, topK: 3 });
  assert.equal(res.numLayers, 5);
  assert.deepEqual(res.layerNames, ['embed', 'block 0', 'block 1', 'block 2', 'block 3', 'block 4']);
  const T = res.tokens.length;
  const [grid] = res.grids;
  assert.equal(grid.lens, 'logit');
  assert.equal(grid.topIds.length, 6);
  assert.ok(grid.topIds.every((row) => row.length === T && row.every((cell) => cell.length === 3)));
  for (let t = 0; t + 1 < T; t++) assert.equal(res.targets[t], res.tokens[t + 1].id, `target ${t}`);
  for (const id of [...res.targets, ...grid.topIds.flat(2)]) assert.equal(typeof res.vocab[id], 'string', `vocab ${id}`);
  // The last row's top-1 at the last position is the model's own next token (model/run).
  const run = await call('model/run', { modelId, text, topK: 1 });
  assert.equal(grid.topIds[5][T - 1][0], run.next[0].id);
  assert.ok(Math.abs(grid.topProbs[5][T - 1][0] - run.next[0].prob) < 1e-4, `prob ${grid.topProbs[5][T - 1][0]} vs ${run.next[0].prob}`);

  const fixed = await call('decode/layers', { modelId, text, target: ' dog' });
  const dog = fixed.targets[0];
  // stories260K's 512-piece vocabulary splits ' dog' as ' do' + 'g': the target is the first piece.
  const piece = fixed.vocab[dog].trim();
  assert.ok(fixed.targets.every((id) => id === dog) && piece.length > 0 && 'dog'.startsWith(piece), `target ${dog} ${JSON.stringify(fixed.vocab[dog])}`);
});

test('decode/fitLens fits, caches and serves a shortcut lens; missing lenses and bad input are clear errors', async () => {
  await assert.rejects(call('decode/layers', { modelId, text: 'Hi', lenses: ['tuned'], lensDir }), /No tuned lens has been fitted/);
  await assert.rejects(call('decode/layers', { modelId, text: 'Hi', topK: 0 }), /topK must be an integer/);
  await assert.rejects(call('decode/fitLens', { modelId, kind: 'shortcut', lensDir, corpus: { files: ['/nonexistent/x.txt'] } }), /Cannot read corpus file/);
  const fit = await call('decode/fitLens', { modelId, kind: 'shortcut', lensDir, corpus: { texts: STORIES } });
  assert.equal(fit.cached, false);
  assert.deepEqual(fit.evals.map((e) => e.lens), ['logit', 'shortcut']);
  assert.ok(fit.trainTokens > 0 && fit.heldOutTokens > 0);
  const again = await call('decode/fitLens', { modelId, kind: 'shortcut', lensDir, corpus: { texts: STORIES } });
  assert.equal(again.cached, true);
  assert.deepEqual(again.evals, fit.evals);
  const res = await call('decode/layers', { modelId, text: STORIES[0], lenses: ['logit', 'shortcut'], lensDir });
  assert.deepEqual(res.grids.map((g) => g.lens), ['logit', 'shortcut']);
  // The last row is the model itself under every lens.
  assert.deepEqual(res.grids[1].topIds[5], res.grids[0].topIds[5]);
  const cmp = await call('decode/compareLenses', { modelId, lensDir, corpus: { texts: STORIES.slice(0, 2) } });
  assert.deepEqual(cmp.evals.map((e) => e.lens), ['logit', 'shortcut']);
  // The panel's table (and CSV): a row per layer, each lens's metrics as columns; R² only where fitted.
  assert.ok(isLensEvaluation(cmp) && isLensEvaluation(fit) && !isLensEvaluation(res));
  const table = lensEvalTable(cmp.evals);
  assert.deepEqual(table.header, ['layer', 'logit_kl', 'logit_top1', 'logit_ce', 'shortcut_kl', 'shortcut_top1', 'shortcut_ce']);
  assert.deepEqual(table.rows.map((r) => r[0]), ['embed', 'block 0', 'block 1', 'block 2', 'block 3', 'block 4']);
  assert.deepEqual(table.rows.map((r) => r[1]), cmp.evals[0].layers.map((l) => l.kl));
  assert.deepEqual(table.rows.map((r) => r[5]), cmp.evals[1].layers.map((l) => l.top1));
  const fitted = lensEvalTable(fit.evals);
  assert.equal(fitted.header.at(-1), 'shortcut_r2');
  assert.deepEqual(fitted.rows.map((r) => r.at(-1)), fit.evals[1].layers.map((l) => l.r2 ?? NaN));
});

test('decode/neurons projects MLP output weights through the head (checked against JS); search filters', async () => {
  const res = await call('decode/neurons', { modelId, layer: 2, topK: 4, limit: 500 });
  assert.equal(res.total, 172);
  assert.equal(res.neurons.length, 172);
  // Independent check of one neuron with the engine's raw weights.
  const { loadModel } = await import('../../../native/model/load');
  const m = await loadModel(MODEL, { id: 'ref', provider: 'cpu' });
  try {
    const w = m.engine.headWeights();
    const out = m.engine.mlpOutputWeights(2)!;
    const d = out.cols;
    const n = 17;
    const scores = new Float64Array(w.unembed.rows);
    for (let v = 0; v < scores.length; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += out.data[n * d + i] * w.norm.weight[i] * w.unembed.data[v * d + i];
      scores[v] = s;
    }
    const neuron = res.neurons[n];
    assert.deepEqual(neuron.promoted.map((t) => t.id), refTopK(scores, 4));
    assert.deepEqual(neuron.suppressed.map((t) => t.id), refTopK(scores.map((x) => -x), 4));
    neuron.promoted.forEach((t) => assert.ok(Math.abs(t.score - scores[t.id]) < 1e-4));
  } finally {
    await m.dispose();
  }
  const query = res.neurons[0].promoted[0].text.trim();
  const found = await call('decode/neurons', { modelId, layer: 2, topK: 4, query });
  assert.ok(found.matched >= 1 && found.matched <= 172);
  assert.ok(found.neurons.every((x) => [...x.promoted, ...x.suppressed].some((t) => t.text.toLowerCase().includes(query.toLowerCase()))));
  await assert.rejects(call('decode/neurons', { modelId, layer: 9 }), /layer must be an integer/);
  // The neuron panel searches the full list itself: the same neurons as the sidecar's query.
  assert.equal(res.numLayers, 5);
  assert.deepEqual(filterNeurons(res.neurons, ` ${query.toUpperCase()} `, 'index').map((x) => x.index), found.neurons.map((x) => x.index));
  const byNorm = filterNeurons(res.neurons, '', 'norm');
  assert.equal(byNorm.length, 172);
  assert.ok(byNorm.every((x, i) => i === 0 || byNorm[i - 1].norm >= x.norm));
  const csv = neuronCsvRows(2, found.neurons);
  assert.deepEqual(csv[0], ['layer', 'neuron', 'norm', 'promoted', 'suppressed']);
  assert.equal(csv.length, found.neurons.length + 1);
  assert.equal(csv[1][3], found.neurons[0].promoted.map((t) => `${t.text}:${t.score.toFixed(3)}`).join(' '));
});

test('decode/contrastive: greedy is the model output, the premature layer maximises JSD, contrast stays plausible', async () => {
  const text = 'Once upon a time, there was a little';
  const res = await call('decode/contrastive', { modelId, text, topK: 5 });
  const run = await call('model/run', { modelId, text, topK: 5 });
  assert.deepEqual(res.greedy.map((t) => t.id), run.next.map((t) => t.id));
  assert.equal(res.jsd.length, 6);
  assert.ok(res.jsd[5] < 1e-9);
  assert.equal(res.premature, res.jsd.slice(0, 5).indexOf(Math.max(...res.jsd.slice(0, 5))));
  const pmax = run.next[0].prob;
  const nextProbs = new Map(run.next.map((t) => [t.id, t.prob]));
  for (const t of res.contrastive) if (nextProbs.has(t.id)) assert.ok(nextProbs.get(t.id)! >= 0.1 * pmax - 1e-6);
  const fixed = await call('decode/contrastive', { modelId, text, premature: 1 });
  assert.equal(fixed.premature, 1);
  await assert.rejects(call('decode/contrastive', { modelId, text, premature: 5 }), /premature must be/);
});
