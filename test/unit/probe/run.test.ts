// A real probing task on the real stories260K model: the gender of a story's subject (girls' and boys'
// names), read at the final "Then" token, whose own embedding carries no label information.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DatasetError } from '../../../native/analyses/probe/dataset';
import { probeReadout } from '../../../native/analyses/probe/readout';
import { runProbing, type ProbeRunContext } from '../../../native/analyses/probe/run';
import { loadProbes } from '../../../native/analyses/probe/saved';
import type { LoadedModel } from '../../../native/model/load';
import type { ProbeRunResult } from '../../../protocol';
import { writeGenderCsv } from './stories';
import { loadStories } from './stories';

let model: LoadedModel;
let dir: string;
let ctx: ProbeRunContext;
let result: ProbeRunResult;

before(async () => {
  model = await loadStories();
  dir = mkdtempSync(join(tmpdir(), 'probe-run-'));
  ctx = { source: model.engine, tokenizer: model.tokenizer, modelName: 'stories260K', modelFingerprint: 'stories-test' };
});
after(async () => {
  await model.engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('gender of the subject: probe curve, baselines, concept depth, saved probes, served from cache the second time', async () => {
  const path = writeGenderCsv(dir);
  const progress: number[] = [];
  const params = { dataset: { path, textColumn: 'text', labelColumn: 'label', groupColumn: 'group' }, pooling: 'last' as const, cacheDir: join(dir, 'cache'), saveTo: join(dir, 'gender.probe.json') };
  result = await runProbing({ ...ctx, onProgress: (f) => progress.push(f) }, params);
  console.log(
    'stories260K gender probe (last token, grouped 5-fold):\n' +
      result.layers.map((l) => `  ${l.name.padEnd(22)} acc ${l.accuracy.mean.toFixed(3)} [${l.accuracy.lo.toFixed(2)}, ${l.accuracy.hi.toFixed(2)}]  massmean ${l.massMeanAccuracy.mean.toFixed(3)}  control ${l.controlAccuracy.mean.toFixed(3)}  sel ${l.selectivity.toFixed(3)}  entropy ${result.representation.promptEntropy[result.layers.indexOf(l)].toFixed(3)}`).join('\n') +
      `\n  majority ${result.majority.mean.toFixed(3)}  random features ${result.randomFeatures.mean.toFixed(3)}  best ${result.bestLayer}  depth ${result.conceptDepth}  extraction ${result.extraction.examplesPerSecond.toFixed(1)} ex/s  fit ${result.fitMs.toFixed(0)} ms`,
  );
  assert.equal(result.examples, 80);
  assert.deepEqual(result.labels, ['he', 'she']);
  assert.equal(result.layers.length, 6);
  assert.ok(result.grouped);
  // The last token is "Then" in every example: the embedding layer holds nothing about the label.
  assert.ok(Math.abs(result.layers[0].accuracy.mean - result.majority.mean) < 0.1, `embed ${result.layers[0].accuracy.mean}`);
  // Attention carries the name's gender to the last token: later layers are well above chance.
  assert.ok(result.layers[result.bestLayer].accuracy.mean >= 0.8, `best ${result.layers[result.bestLayer].accuracy.mean}`);
  assert.ok(result.bestLayer >= 1 && result.conceptDepth >= 1 && result.conceptDepth <= result.bestLayer);
  // Label-balanced grouped folds: the majority baseline is near one half, not below it.
  assert.ok(result.majority.mean > 0.4, `majority ${result.majority.mean}`);
  // The control task (a random label per distinct text) does not generalise: high selectivity.
  assert.ok(result.layers[result.bestLayer].selectivity > 0.25);
  assert.ok(result.randomFeatures.mean < 0.7);
  assert.equal(result.layers[0].confusion.flat().reduce((a, b) => a + b, 0), 80);
  assert.equal(result.representation.cka.length, 6);
  assert.ok(Math.abs(result.representation.cka[2][2] - 1) < 1e-9);
  assert.ok(progress.at(-1)! > 0.99 && progress.every((p, i) => i === 0 || p >= progress[i - 1]));
  assert.equal(result.extraction.cached, false);
  const again = await runProbing(ctx, params);
  assert.equal(again.extraction.cached, true);
  assert.deepEqual(again.layers, result.layers);
});

test('readout: saved probes applied to each token and layer of a new prompt', async () => {
  const probes = await loadProbes(join(dir, 'gender.probe.json'));
  assert.equal(probes.layers.length, 6);
  const girl = model.encode({ text: 'Lily ate a red apple. Then' }).ids;
  const boy = model.encode({ text: 'Tom ate a red apple. Then' }).ids;
  const pg = await probeReadout(model.engine, girl, probes);
  const pb = await probeReadout(model.engine, boy, probes);
  assert.equal(pg.length, 6);
  assert.equal(pg[0].length, girl.length);
  const she = probes.labels.indexOf('she');
  const best = probes.bestLayer;
  for (const row of pg[best]) assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-9);
  assert.ok(pg[best].at(-1)![she] > pb[best].at(-1)![she], `P(she) girl ${pg[best].at(-1)![she]} vs boy ${pb[best].at(-1)![she]}`);
});

test('bad input: malformed rows fail without consent; a probe of another width is refused', async () => {
  const path = join(dir, 'bad.csv');
  writeFileSync(path, 'text,label\nLily ran. Then,she\n"unclosed,he\n');
  await assert.rejects(runProbing(ctx, { dataset: { path, textColumn: 'text', labelColumn: 'label' }, pooling: 'last', cacheDir: join(dir, 'c2') }), DatasetError);
  const few = join(dir, 'few.csv');
  writeFileSync(few, 'text,label\na. Then,she\nb. Then,he\nc. Then,he\n');
  await assert.rejects(runProbing(ctx, { dataset: { path: few, textColumn: 'text', labelColumn: 'label' }, pooling: 'last', cacheDir: join(dir, 'c3') }), /at least 5 examples/);
  const probes = await loadProbes(join(dir, 'gender.probe.json'));
  await assert.rejects(probeReadout(model.engine, [1, 2], { ...probes, hidden: 32 }), /hidden size 32/);
  writeFileSync(join(dir, 'not.json'), '{"format":"x"}');
  await assert.rejects(loadProbes(join(dir, 'not.json')), /not a layerlens probe file/);
});
