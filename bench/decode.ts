// Decode benchmark: the full logit lens (every layer, every token: top-5, entropy, KL to the output,
// target log-prob and rank) on a 128-token prompt, timed against floors measured in the same run:
//   floor = one plain forward (the monolithic model) + one [(L+1)·T x d]·[d x V] matmul in onnxruntime
// and against one plain forward alone. Models: stories260K (real) and a generated Llama of realistic
// width (hidden 512, 8 layers, vocab 8192), plus the demo model once it is built. Then the per-layer
// lens table (logit vs linear shortcut vs tuned: held-out KL and top-1 agreement) on the demo model
// (stories260K until it is built) with the demo corpus.
// Run: node --import tsx bench/decode.ts
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseCorpusFile } from '../native/analyses/decode/corpus';
import { evaluateLenses, fitLens } from '../native/analyses/decode/fit';
import { DType, GraphBuilder, f32, openSession } from '../native/analyses/decode/graph';
import { collectStates, lensGrid, nextTokenTargets } from '../native/analyses/decode/lens';
import { transpose } from '../native/analyses/decode/lensHead';
import { createEngine } from '../native/engine';
import type { Engine } from '../native/engine/api';
import { REALISTIC, buildFixture } from '../native/fixtures';
import { loadModel } from '../native/model/load';

const ROOT = path.resolve(__dirname, '..');
const STORIES = path.resolve(ROOT, '../shared/models/stories260K');
const DEMO = path.join(ROOT, 'demo/model');
const T = 128;
const REPS = 5;

/** Median wall time (ms) of `fn` over REPS runs after one warm-up. */
async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(REPS / 2)];
}

/** An ORT session computing X·Wᵀ for the model's unembedding (the matmul part of the floor). */
async function unembedMatmul(engine: Engine): Promise<ort.InferenceSession> {
  const w = engine.headWeights();
  const d = w.unembed.cols;
  const V = w.unembed.rows;
  const g = new GraphBuilder();
  const x = g.input('x', DType.float, ['N', d]);
  g.op('MatMul', [x, g.floats(transpose(w.unembed.data, V, d), [d, V])], {}, 'z');
  g.output('z', DType.float, ['N', V]);
  return openSession(g.build('floor_matmul'));
}

async function timeLens(name: string, engine: Engine, ids: number[]): Promise<Record<string, string | number>> {
  const L = engine.layerMap.numLayers;
  const d = engine.layerMap.hiddenSize;
  const mm = await unembedMatmul(engine);
  const rows = new Float32Array((L + 1) * ids.length * d).map((_, i) => Math.sin(i));
  const targets = nextTokenTargets(ids);
  const lens = async () => lensGrid(engine, await collectStates(engine, ids), { targets, k: 5 });
  const plain = () => engine.forwardMonolithic(ids);
  const states = await collectStates(engine, ids);
  const collect = () => collectStates(engine, ids);
  const head = () => lensGrid(engine, states, { targets, k: 5 });
  const matmul = () => mm.run({ x: f32(rows, [(L + 1) * ids.length, d]) });
  const floor = async () => {
    await engine.forwardMonolithic(ids);
    await mm.run({ x: f32(rows, [(L + 1) * ids.length, d]) });
  };
  // Interleave the three measurements so that load on the machine hits them alike.
  const lensMs: number[] = [];
  const floorMs: number[] = [];
  const plainMs: number[] = [];
  const parts = { collect: [] as number[], head: [] as number[], matmul: [] as number[] };
  for (let round = 0; round < 3; round++) {
    lensMs.push(await median(lens));
    floorMs.push(await median(floor));
    plainMs.push(await median(plain));
    parts.collect.push(await median(collect));
    parts.head.push(await median(head));
    parts.matmul.push(await median(matmul));
  }
  const best = (xs: number[]) => Math.min(...xs);
  await mm.release();
  return {
    model: name,
    'layers x tokens x vocab': `${L + 1} x ${ids.length} x ${engine.layerMap.vocabSize}`,
    'logit lens ms': +best(lensMs).toFixed(1),
    'floor ms': +best(floorMs).toFixed(1),
    'plain forward ms': +best(plainMs).toFixed(1),
    'lens / floor': +(best(lensMs) / best(floorMs)).toFixed(2),
    'lens / forward': +(best(lensMs) / best(plainMs)).toFixed(2),
    'states (taps) ms': +best(parts.collect).toFixed(1),
    'lens head ms': +best(parts.head).toFixed(1),
    'matmul alone ms': +best(parts.matmul).toFixed(1),
  };
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, node ${process.version}, onnxruntime-node ${ort.env.versions.common}`);
  const corpus = parseCorpusFile('heldout.jsonl', readFileSync(path.join(ROOT, 'demo/data/heldout.jsonl'), 'utf8'));
  const stories = await loadModel(STORIES, { id: 'stories', provider: 'cpu' });
  const demo = existsSync(path.join(DEMO, 'onnx/model.onnx')) ? await loadModel(DEMO, { id: 'demo', provider: 'cpu' }) : undefined;
  const rowsOut = [];
  for (const [name, m] of [['stories260K', stories], ['demo model', demo]] as const) {
    if (!m) continue;
    const ids = m.tokenizer.encode(corpus.slice(0, 6).join(' ')).ids.slice(0, T);
    rowsOut.push(await timeLens(name, m.engine, ids));
  }
  const realistic = await createEngine({ model: buildFixture({ form: 'pytorch', ...REALISTIC, kvCache: false }), baseDir: os.tmpdir() }, { provider: 'cpu' });
  const randomIds = Array.from({ length: T }, (_, i) => (i * 7919 + 13) % 8192);
  rowsOut.push(await timeLens('generated pytorch Llama (hidden 512, 8 layers, vocab 8192)', realistic, randomIds));
  await realistic.dispose();
  console.table(rowsOut);

  // Per-layer lens table on held-out stories.
  const small = demo ?? stories;
  const smallName = demo ? 'demo model' : 'stories260K';
  const texts = corpus.slice(0, 60).map((text) => small.encode({ text }).ids.slice(0, 96));
  const t0 = performance.now();
  const shortcut = await fitLens(small.engine, texts, { kind: 'shortcut' });
  const t1 = performance.now();
  const tuned = await fitLens(small.engine, texts, { kind: 'tuned', steps: 300, learningRate: 3e-3 });
  const t2 = performance.now();
  const heldOut = texts.filter((_, i) => i % 5 === 4);
  const [logitEval, shortcutEval, tunedEval] = await evaluateLenses(small.engine, heldOut, [undefined, shortcut.lens, tuned.lens]);
  console.log(`${smallName}: ${shortcut.trainTokens} train / ${shortcut.heldOutTokens} held-out tokens; shortcut fit ${(t1 - t0).toFixed(0)} ms, tuned fit (300 Adam steps) ${(t2 - t1).toFixed(0)} ms`);
  console.table(
    logitEval.layers.map((l, i) => ({
      layer: i === 0 ? 'embed' : `block ${i - 1}`,
      'logit KL': +l.kl.toFixed(3),
      'shortcut KL': +shortcutEval.layers[i].kl.toFixed(3),
      'tuned KL': +tunedEval.layers[i].kl.toFixed(3),
      'logit top-1': +l.top1.toFixed(3),
      'shortcut top-1': +shortcutEval.layers[i].top1.toFixed(3),
      'tuned top-1': +tunedEval.layers[i].top1.toFixed(3),
      'shortcut R²': +(shortcut.evals[1].layers[i].r2 ?? NaN).toFixed(3),
    })),
  );
  await stories.dispose();
  await demo?.dispose();
}

void main();
