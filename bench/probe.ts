// Probe benchmark, measured side by side in one run. Run: node --import tsx bench/probe.ts [--full]
//   1. activation extraction (all residual taps, pooled, written to the on-disk cache with the
//      representation metrics) vs plain forwards on the same batches: the engine's batched forward
//      without taps, and the unmodified monolithic model one sequence at a time (target >= 0.9x).
//   2. probe fitting (5-fold CV, inner 3-fold lambda choice, mass-mean, control task, final probe) for
//      5,000 examples x hidden 512 x 9 feature sets of synthetic features, in the fitting worker. Without
//      --full only 3 feature sets are fit and the 9-set time is extrapolated (stated in the output).
// Models: stories260K (real weights; 256 texts of demo/data/probe-gender.csv) and the realistic-width
// random fixture (hidden 512, 8 blocks; 64 random sequences of 16-32 tokens). Batches of 8.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { FeatureCache } from '../native/analyses/probe/cache';
import { parseDataset } from '../native/analyses/probe/dataset';
import { extractFeatures } from '../native/analyses/probe/extract';
import { gaussian, rng } from '../native/analyses/probe/stats';
import { fitInWorker } from '../native/analyses/probe/worker';
import type { Engine } from '../native/engine/api';
import { createEngine } from '../native/engine/index';
import { buildFixture, REALISTIC } from '../native/fixtures/index';
import { loadModel } from '../native/model/load';

const STORIES = path.resolve(__dirname, '../../shared/models/stories260K');
const GENDER = path.resolve(__dirname, '../demo/data/probe-gender.csv');
const EXAMPLES = 256;
const BATCH = 8;
const full = process.argv.includes('--full');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'probe-bench-'));

async function extractionBench(name: string, engine: Engine, examples: number[][]): Promise<void> {
  const batches: number[][][] = [];
  for (let i = 0; i < examples.length; i += BATCH) batches.push(examples.slice(i, i + BATCH));
  const ext: number[] = [];
  const plain: number[] = [];
  const mono: number[] = [];
  await engine.forwardMonolithic(examples[0]); // warm both paths
  await engine.forwardBatch([examples[0]], { logits: 'last' });
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    await extractFeatures(engine, examples.map((ids) => ({ ids })), { pooling: 'last', cacheRoot: path.join(tmp, `${name}-${round}`), key: { model: name, dataset: String(round), options: {} }, batchSize: BATCH, chunkSize: 16 });
    ext.push(examples.length / ((performance.now() - t) / 1000));
    t = performance.now();
    for (const b of batches) await engine.forwardBatch(b, { logits: 'last' });
    plain.push(examples.length / ((performance.now() - t) / 1000));
    t = performance.now();
    for (const ids of examples) await engine.forwardMonolithic(ids);
    mono.push(examples.length / ((performance.now() - t) / 1000));
  }
  const [e, p, m] = [median(ext), median(plain), median(mono)];
  const d = engine.layerMap.hiddenSize;
  console.log(`| ${name} (${engine.layerMap.numLayers} layers, d ${d}) | ${examples.length} x ~${Math.round(examples.reduce((a, x) => a + x.length, 0) / examples.length)} tok | ${e.toFixed(1)} | ${p.toFixed(1)} | ${m.toFixed(1)} | ${(e / p).toFixed(2)}x | ${(e / m).toFixed(2)}x |`);
}

async function fittingBench(): Promise<void> {
  const n = 5000;
  const d = 512;
  const sets = full ? 9 : 3;
  const g = gaussian(rng(7));
  const y = Int32Array.from({ length: n }, (_, i) => i % 2);
  const dir = path.join(tmp, 'fit');
  const names = Array.from({ length: sets }, (_, l) => (l === 0 ? 'embed' : `blocks.${l - 1}.resid_post`));
  const cache = await FeatureCache.open(dir, { model: 'synthetic', dataset: 'synthetic', options: {} }, { examples: n, hidden: d, chunkSize: n, dtype: 'float32', features: names });
  // Signal grows with depth along one random direction.
  const dir0 = Float64Array.from({ length: d }, g);
  const norm = Math.hypot(...dir0);
  const features = names.map((_, l) => Float32Array.from({ length: n * d }, (_, k) => g() + ((0.25 * l) / sets) * (y[Math.floor(k / d)] ? 1 : -1) * (dir0[k % d] / norm) * Math.sqrt(d) * 0.1));
  await cache.writeChunk(0, features, {});
  const rc = rng(3);
  const yControl = Int32Array.from({ length: n }, () => (rc() < 0.5 ? 1 : 0));
  const t = performance.now();
  const out = await fitInWorker({ cacheDir: cache.dir, classes: 2, y, yControl, folds: 5, seed: 1 });
  const s = (performance.now() - t) / 1000;
  console.log(`\nProbe fitting, ${n} examples x hidden ${d}, 5-fold CV + inner 3-fold lambda (3 values) + mass-mean + control + final fit, in the worker:`);
  console.log(`  ${sets} feature sets: ${s.toFixed(1)} s (${(s / sets).toFixed(1)} s per set)${full ? '' : `; 9 sets extrapolated: ${((9 * s) / sets).toFixed(0)} s (run with --full to measure)`}`);
  console.log(`  accuracy per set: ${out.layers.map((l) => l.accuracy.mean.toFixed(3)).join(' ')}`);
}

async function main(): Promise<void> {
  console.log(`Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}, onnxruntime-node ${ort.env.versions.common}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('\n| model | examples | extraction ex/s | batched forward (no taps) ex/s | monolithic ex/s | vs batched | vs monolithic |');
  console.log('|---|---|---|---|---|---|---|');
  const stories = await loadModel(STORIES, { id: 'stories', provider: 'cpu' });
  const texts = parseDataset(readFileSync(GENDER, 'utf8'), { path: GENDER, textColumn: 'text', labelColumn: 'label' }).examples.slice(0, EXAMPLES).map((e) => e.text);
  await extractionBench('stories260K', stories.engine, texts.map((t) => stories.encode({ text: t }).ids));
  await stories.dispose();
  const realistic = await createEngine({ model: buildFixture({ form: 'pytorch', seed: 1, ...REALISTIC }), baseDir: '.' }, { provider: 'cpu' });
  const r = rng(11);
  await extractionBench('realistic fixture', realistic, Array.from({ length: EXAMPLES / 4 }, () => Array.from({ length: 16 + Math.floor(r() * 17) }, () => 1 + Math.floor(r() * 8000))));
  await realistic.dispose();
  await fittingBench();
  rmSync(tmp, { recursive: true, force: true });
}

void main();
