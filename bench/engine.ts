// Engine benchmark: layer-wise (identity plan over stage sessions) vs the monolithic ONNX session,
// measured side by side in one run. Run: node --import tsx bench/engine.ts
//   1. forward on a 128-token prompt (median time), stories260K and a realistic-width fixture
//   2. peak RSS after loading + one forward, split vs monolithic, each in its own child process
//   3. token-by-token decoding with the KV cache (median ms/token)
// Layer-wise runs twice: as loaded (attention + MLP of each block joined in one session) and with every
// block split into attention and MLP sessions (what a sublayer plan leads to; the layout before blocks
// were joined). Each round runs monolithic, joined and sublayer forwards one after another.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../native/engine/index';
import { sessionOptions } from '../native/engine/session';
import { plainLogits } from '../native/fixtures/reference';
import { REALISTIC, writeFixture } from '../native/fixtures/index';

const STORIES = path.resolve(__dirname, '../../shared/models/stories260K/onnx/model.onnx');

function tokens(n: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + 13) % (vocab - 3)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Child mode: load one way, run one 128-token forward, print peak RSS in MiB. */
async function child(mode: string, file: string) {
  if (mode === 'split') {
    const engine = await createEngine({ path: file });
    await engine.forward(tokens(128, engine.layerMap.vocabSize));
  } else {
    // vocabulary size only bounds the ids; 256 fits every model here
    await plainLogits(file, tokens(128, 256), sessionOptions('cpu'));
  }
  process.stdout.write(String(process.resourceUsage().maxRSS / 1024));
  process.exit(0);
}

function peakRss(mode: string, file: string): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, file], { encoding: 'utf8' });
  return Number(out.trim());
}

async function measure(name: string, file: string, runs: number, decodeSteps: number) {
  const engine = await createEngine({ path: file });
  const ids = tokens(128, engine.layerMap.vocabSize);
  // a second engine whose blocks a sublayer skip in each has split into attention and MLP sessions
  const sublayers = await createEngine({ path: file }, { rejoinIdleMs: 2 ** 31 - 1 });
  const L = engine.layerMap.numLayers;
  for (let l = 0; l < L; l++) await sublayers.forward(ids.slice(0, 4), { plan: { slots: Array.from({ length: L }, (_, k) => (k === l ? { layer: k, attn: false } : { layer: k })) } });
  await engine.forward(ids);
  await sublayers.forward(ids);
  await engine.forwardMonolithic(ids);
  const split: number[] = [];
  const sub: number[] = [];
  const mono: number[] = [];
  for (let i = 0; i < runs; i++) {
    mono.push(await timeIt(() => engine.forwardMonolithic(ids)));
    split.push(await timeIt(() => engine.forward(ids)));
    sub.push(await timeIt(() => sublayers.forward(ids)));
  }
  // ratio within each round (robust to load that drifts between rounds)
  const paired = (xs: number[]) => median(xs.map((x, i) => x / mono[i]));
  await sublayers.dispose();
  const decode = async (monolithic: boolean) => {
    const cache = engine.newCache();
    const prompt = ids.slice(0, 16);
    if (monolithic) await engine.forwardMonolithic(prompt, { cache });
    else await engine.forward(prompt, { cache, logits: 'last' });
    const steps: number[] = [];
    for (let i = 0; i < decodeSteps; i++) {
      const next = [ids[16 + i]];
      steps.push(await timeIt(() => (monolithic ? engine.forwardMonolithic(next, { cache }) : engine.forward(next, { cache, logits: 'last' }))));
    }
    return median(steps);
  };
  const decMono = await decode(true);
  const decSplit = await decode(false);
  await engine.dispose();
  const rssSplit = peakRss('split', file);
  const rssMono = peakRss('mono', file);
  const r = {
    name,
    forwardSplitMs: median(split),
    forwardMonoMs: median(mono),
    forwardSublayerMs: median(sub),
    forwardPairedRatio: paired(split),
    sublayerPairedRatio: paired(sub),
    decodeSplitMs: decSplit,
    decodeMonoMs: decMono,
    rssSplitMiB: rssSplit,
    rssMonoMiB: rssMono,
  };
  console.log(
    `${name}: forward 128 tok  split ${r.forwardSplitMs.toFixed(2)} ms  mono ${r.forwardMonoMs.toFixed(2)} ms  ratio ${(r.forwardSplitMs / r.forwardMonoMs).toFixed(3)}x (paired ${r.forwardPairedRatio.toFixed(3)}x) ` +
      `[sublayer sessions ${r.forwardSublayerMs.toFixed(2)} ms, ${(r.forwardSublayerMs / r.forwardMonoMs).toFixed(3)}x, paired ${r.sublayerPairedRatio.toFixed(3)}x] | ` +
      `decode split ${decSplit.toFixed(2)} ms/tok  mono ${decMono.toFixed(2)} ms/tok  ratio ${(decSplit / decMono).toFixed(3)}x | ` +
      `peak RSS split ${rssSplit.toFixed(0)} MiB  mono ${rssMono.toFixed(0)} MiB  ratio ${(rssSplit / rssMono).toFixed(3)}x`,
  );
  return r;
}

async function main() {
  const argv = process.argv;
  const ci = argv.indexOf('--child');
  if (ci >= 0) return child(argv[ci + 1], argv[ci + 2]);
  console.log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? ''}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-bench-'));
  try {
    await measure('stories260K', STORIES, 61, 32);
    const t = performance.now();
    const file = writeFixture(dir, { form: 'pytorch', ...REALISTIC, seed: 1 }, {});
    console.log(`(realistic fixture: hidden 512, 8 layers, vocab 8192, ${(fs.statSync(path.join(dir, 'model.onnx_data')).size / 2 ** 20).toFixed(0)} MiB of weights, built in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    await measure('realistic-512x8', file, 21, 16);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
