import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { floatToHalf as toHalf, halfToFloat as fromHalf } from '../../../native/onnx/tensor';
import { extractFeatures, probeTaps } from '../../../native/analyses/probe/extract';
import type { LoadedModel } from '../../../native/model/load';
import { genderRows, loadStories } from './stories';

let model: LoadedModel;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'probe-extract-'));
  dirs.push(d);
  return d;
};
const examples = () => genderRows().slice(0, 24).map((r) => ({ ids: model.encode({ text: r.text }).ids }));

before(async () => {
  model = await loadStories();
});
after(async () => {
  await model.engine.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('float16 conversion: IEEE reference values and round trip', () => {
  const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.1, 0x2e66], [2 ** -24, 0x0001], [1e-9, 0], [Infinity, 0x7c00], [1e6, 0x7c00], [0.333251953125, 0x3555]];
  for (const [x, h] of cases) assert.equal(toHalf(x), h, `toHalf(${x})`);
  for (const [x, h] of cases) if (Math.abs(x) <= 65504 && Math.abs(x) >= 2 ** -24) assert.ok(Math.abs(fromHalf(h) - x) <= Math.abs(x) * 1e-3);
  assert.ok(Number.isNaN(fromHalf(toHalf(NaN))));
});

test('pooled features on stories260K equal the engine taps of single forwards (last and mean pooling, f32 and f16)', async () => {
  const ex = examples().slice(0, 10);
  const taps = probeTaps(model.engine);
  assert.equal(taps.length, 6); // embed + 5 blocks
  const d = model.engine.layerMap.hiddenSize;
  const refs = await Promise.all(ex.map((e) => model.engine.forward(e.ids, { taps, logits: 'none' })));
  for (const [pooling, dtype, tol] of [['last', 'float32', 1e-6], ['mean', 'float16', 2e-3]] as const) {
    const x = await extractFeatures(model.engine, ex, { pooling, dtype, cacheRoot: tmp(), key: { model: 'm', dataset: 'd', options: { pooling, dtype } }, chunkSize: 4, batchSize: 3 });
    assert.deepEqual(x.layerNames, [...taps, 'random']);
    assert.equal(x.computedChunks, 3);
    for (let l = 0; l < taps.length; l++) {
      const X = await x.cache.readFeature(l);
      for (let i = 0; i < ex.length; i++) {
        const m = refs[i].taps.get(taps[l])!;
        for (let j = 0; j < d; j++) {
          let ref = 0;
          if (pooling === 'last') ref = m.data[(m.rows - 1) * d + j];
          else for (let t = 0; t < m.rows; t++) ref += m.data[t * d + j] / m.rows;
          assert.ok(Math.abs(X[i * d + j] - ref) <= tol * Math.max(1, Math.abs(ref)), `${pooling} layer ${l} ex ${i} dim ${j}: ${X[i * d + j]} vs ${ref}`);
        }
      }
    }
    assert.equal(x.promptEntropy.length, taps.length);
    assert.ok(x.promptEntropy.every((h) => h > 0 && h <= 1), `entropy ${x.promptEntropy}`);
    assert.ok(x.curvature.every((c) => c > 0 && c < Math.PI));
  }
});

test('cache: the same request is served from disk; a changed data set is recomputed', async () => {
  const root = tmp();
  const ex = examples().slice(0, 8);
  const key = { model: 'm', dataset: 'hash-1', options: { pooling: 'last' } };
  const first = await extractFeatures(model.engine, ex, { pooling: 'last', cacheRoot: root, key, chunkSize: 4 });
  assert.equal(first.computedChunks, 2);
  const again = await extractFeatures(model.engine, ex, { pooling: 'last', cacheRoot: root, key, chunkSize: 4 });
  assert.equal(again.computedChunks, 0);
  assert.equal(again.resumedChunks, 2);
  assert.deepEqual(await again.cache.readFeature(3), await first.cache.readFeature(3));
  assert.deepEqual(again.promptEntropy, first.promptEntropy);
  const changed = ex.slice().reverse();
  const third = await extractFeatures(model.engine, changed, { pooling: 'last', cacheRoot: root, key: { ...key, dataset: 'hash-2' }, chunkSize: 4 });
  assert.equal(third.computedChunks, 2);
  assert.notEqual(third.cache.dir, first.cache.dir);
  assert.notDeepEqual(await third.cache.readFeature(3), await first.cache.readFeature(3));
});

test('resume after a kill: a child process killed mid-extraction leaves whole chunks; resuming gives identical features', async () => {
  const root = tmp();
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'extractChild.ts'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Kill it as soon as it has finished its second chunk.
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      const dir = existsSync(root) ? readdirSync(root)[0] : undefined;
      const done = dir ? readdirSync(join(root, dir)).filter((f) => /^chunk-\d+\.json$/.test(f)).length : 0;
      if (done >= 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the child finished before it was killed'));
    });
  });
  await new Promise((r) => child.once('exit', r));
  const ex = examples();
  const key = { model: 'm', dataset: 'resume', options: {} };
  const resumed = await extractFeatures(model.engine, ex, { pooling: 'last', cacheRoot: root, key, chunkSize: 4 });
  assert.ok(resumed.resumedChunks >= 2 && resumed.resumedChunks < 6, `resumed ${resumed.resumedChunks}`);
  assert.equal(resumed.resumedChunks + resumed.computedChunks, 6);
  const fresh = await extractFeatures(model.engine, ex, { pooling: 'last', cacheRoot: tmp(), key, chunkSize: 4 });
  for (let f = 0; f < fresh.layerNames.length; f++) assert.deepEqual(await resumed.cache.readFeature(f), await fresh.cache.readFeature(f));
  assert.deepEqual(resumed.curvature, fresh.curvature);
});
