// What each layerlens pillar finds on the demo model, asked through the sidecar's JSON-RPC surface exactly
// as the extension asks it, on held-out data. These are the findings demo/model/MODEL_CARD.md states
// (measured there independently in PyTorch by tools/demo-model/inspect_model.py):
//   decoding: the colour answer becomes the logit lens's top-1 only after the last block;
//   skipping: block 2 can be skipped with the answers intact, blocks 0, 1 and 3 carry the colour recall;
//   probing:  gender is linearly readable at the last token from block 0 on, not at the embedding, and
//             the model itself already says it (the zero-shot baseline).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorOf, startInMemorySidecar, type InMemorySidecar } from '../support/rpc';
import { DEMO_DATA, DEMO_MODEL, readJsonl, type TaskCase } from './helpers';

const CASES = 30;
const colourCases = readJsonl<TaskCase>(path.join(DEMO_DATA, 'tasks.jsonl'))
  .filter((t) => t.task === 'colour')
  .slice(0, CASES);

let sidecar: InMemorySidecar;
let modelId: string;
let dir: string;

before(async () => {
  sidecar = startInMemorySidecar();
  modelId = (await sidecar.call('model/load', { path: DEMO_MODEL, provider: 'cpu' })).id;
  dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-demo-findings-'));
});

after(async () => {
  await sidecar.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('demo model findings through the sidecar (held-out colour questions, gender probe set)', () => {
  it('logit lens: the colour answer is top-1 after the last block, and rarely before it', async () => {
    let layers = 0;
    const top1 = new Map<number, number>(); // row of the lens grid -> prompts whose answer is top-1 there
    for (const c of colourCases) {
      const r = await sidecar.call('decode/layers', { modelId, text: c.prompt, target: ` ${c.answer}`, lenses: ['logit'] });
      const rank = r.grids[0].targetRank;
      layers = rank.length;
      const last = r.tokens.length - 1;
      rank.forEach((row, layer) => top1.set(layer, (top1.get(layer) ?? 0) + (row[last] === 0 ? 1 : 0)));
    }
    const share = (layer: number) => (top1.get(layer) ?? 0) / colourCases.length;
    assert.ok(share(layers - 1) >= 0.9, `final row: ${share(layers - 1)}`);
    for (let layer = 0; layer < layers - 1; layer++) assert.ok(share(layer) <= 0.3, `row ${layer}: the answer is already top-1 in ${share(layer)}`);
  });

  it('skip sweep: without block 2 the colour answers survive; without block 0, 1 or 3 they do not', async () => {
    const kept = new Map<string, number>(); // skip label -> prompts whose answer stays top-1
    let labels: string[] = [];
    for (const c of colourCases) {
      const text = `${c.prompt} ${c.answer}`;
      const { tokens } = await sidecar.call('model/tokenize', { modelId, text });
      const r = await sidecar.call('skip/sweep', { modelId, text, answerIndex: tokens.length - 1, options: { skips: true, sublayers: false, swaps: false } });
      const skips = r.entries.filter((e) => e.kind === 'skip' && e.layers.length === 1);
      labels = skips.map((e) => String(e.layers[0]));
      for (const e of skips) kept.set(String(e.layers[0]), (kept.get(String(e.layers[0])) ?? 0) + (e.answer!.rank === 0 ? 1 : 0));
    }
    assert.deepEqual(labels, ['0', '1', '2', '3']);
    const share = (block: number) => kept.get(String(block))! / colourCases.length;
    assert.ok(share(2) >= 0.9, `skip 2 keeps ${share(2)}`);
    for (const block of [0, 1, 3]) assert.ok(share(block) <= 0.3, `skip ${block} keeps ${share(block)}`);
  });

  it('gender probe: readable from block 0 on (>= 90%, grouped folds), at chance at the embedding, above its control task', async () => {
    const run = await sidecar.call('probe/train', {
      modelId,
      dataset: { path: path.join(DEMO_DATA, 'probe-gender.csv'), textColumn: 'text', labelColumn: 'label', groupColumn: 'group' },
      pooling: 'last',
      folds: 5,
      cacheDir: path.join(dir, 'cache'),
    });
    assert.equal(run.grouped, true);
    assert.equal(run.layers.length, 5); // embedding + 4 blocks
    assert.ok(run.layers[0].accuracy.mean <= 0.6, `embedding: ${run.layers[0].accuracy.mean}`);
    for (const layer of run.layers.slice(1)) {
      assert.ok(layer.accuracy.mean >= 0.9, `${layer.name}: ${layer.accuracy.mean}`);
      assert.ok(layer.selectivity > 0.2, `${layer.name}: selectivity ${layer.selectivity}`);
    }
    assert.ok(run.bestLayer >= 1);
  });

  it('zero-shot baseline: the model itself says he / she after "Then" (so the probe adds little here); swapped words score the mirror image', async () => {
    const dataset = { path: path.join(DEMO_DATA, 'probe-gender.csv'), textColumn: 'text', labelColumn: 'label' };
    const right = await sidecar.call('probe/zeroShot', { modelId, dataset, words: { female: 'she', male: 'he' } });
    assert.equal(right.examples, 400);
    assert.deepEqual(right.tokens, { female: { id: right.tokens.female.id, text: ' she' }, male: { id: right.tokens.male.id, text: ' he' } });
    assert.ok(right.accuracy >= 0.9, `accuracy ${right.accuracy}`);
    assert.ok(right.meanTrueProb > 0.5, `p(true word) ${right.meanTrueProb}`);
    const swapped = await sidecar.call('probe/zeroShot', { modelId, dataset, words: { female: 'he', male: 'she' } });
    assert.ok(Math.abs(swapped.accuracy - (1 - right.accuracy)) < 1e-9, `${swapped.accuracy} vs ${right.accuracy}`);
    await assert.rejects(sidecar.call('probe/zeroShot', { modelId, dataset, words: { female: 'she' } }), /missing: male/);
    assert.equal((await errorOf(sidecar.call('probe/zeroShot', { modelId, dataset, words: { female: 'she' } })))?.code, 'BAD_DATASET');
  });
});
