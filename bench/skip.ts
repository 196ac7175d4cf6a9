// Skip benchmark, measured side by side in one run. Run: node --import tsx bench/skip.ts
//   1. single-block skip sweep with prefix reuse vs full forwards (target: <= 0.6 x L full forwards)
//   2. self-speculative decoding tokens/s vs plain greedy (same run, same prompt), per drafting mode
//   3. early-exit simulator: blocks saved vs agreement with the full model (stories260K, real text)
// Models: stories260K (real weights), the demo model when present, and a realistic-width random
// fixture (hidden 512, 8 blocks, vocab 8192).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine } from '../native/engine/index';
import type { Engine } from '../native/engine/api';
import { buildFixture, REALISTIC } from '../native/fixtures/index';
import { loadModel } from '../native/model/load';
import { earlyExit } from '../native/analyses/skip/earlyExit';
import { earlyExitPlan, skipPlan } from '../native/analyses/skip/plans';
import { decode, DynamicExitPolicy, fixedPolicy, speculativeDecode, type DraftPolicy } from '../native/analyses/skip/speculative';
import { layerSweep } from '../native/analyses/skip/sweep';
import { searchSkipSet } from '../native/analyses/skip/selfSpec';

const STORIES = path.resolve(__dirname, '../../shared/models/stories260K');
const DEMO = path.resolve(__dirname, '../demo/model');
const PROMPTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her',
  'Tom had a big red ball. He liked to throw it to his dog every day. One day, the ball',
  'The sun was shining and the birds were singing. Mia went to the park with her mom and',
];

/** Best of `reps` interleaved timings of each function (min is the least load-sensitive statistic). */
async function bestOf(fns: (() => Promise<unknown>)[], reps: number): Promise<number[]> {
  const best = fns.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < fns.length; i++) {
      const t = performance.now();
      await fns[i]();
      best[i] = Math.min(best[i], performance.now() - t);
    }
  }
  return best;
}

interface Bench {
  name: string;
  engine: Engine;
  prompt: number[];
  dispose(): Promise<void>;
}

async function sweepCost(b: Bench) {
  const L = b.engine.layerMap.numLayers;
  const ids = b.prompt;
  const skipsOnly = { sublayers: false, swaps: false };
  const blocks = (await layerSweep(b.engine, { texts: [ids], options: skipsOnly })).forwardEquivalents; // also warms up
  const [forward, head, sweep, naive] = await bestOf([
    () => b.engine.forward(ids),
    () => b.engine.head({ data: new Float32Array(ids.length * b.engine.layerMap.hiddenSize).fill(0.5), rows: ids.length, cols: b.engine.layerMap.hiddenSize }),
    () => layerSweep(b.engine, { texts: [ids], options: skipsOnly }),
    async () => {
      await b.engine.forward(ids);
      for (let i = 0; i < L; i++) await b.engine.forward(ids, { plan: skipPlan(L, [i]) });
    },
  ], 5);
  return {
    model: b.name, L, tokens: ids.length, forwardMs: forward, headMs: head, sweepMs: sweep, noReuseMs: naive,
    sweepInForwards: sweep / forward, target: 0.6 * L, blocksInForwards: blocks,
  };
}

async function specRuns(b: Bench, maxNewTokens: number, reps: number) {
  const L = b.engine.layerMap.numLayers;
  const E = Math.max(0, Math.floor(L / 2) - 1);
  const rows: Record<string, unknown>[] = [];
  await decode(b.engine, b.prompt, { maxNewTokens: 4 }); // warm-up
  const found = await searchSkipSet(b.engine, b.prompt, { maxNewTokens: 16, draftLength: 'adaptive' });
  const modes: [string, () => DraftPolicy, boolean][] = [
    [`early exit E=${E} (shared cache)`, () => fixedPolicy(earlyExitPlan(L, E), 'adaptive'), true],
    [`early exit E=${E} (separate caches)`, () => fixedPolicy(earlyExitPlan(L, E), 'adaptive'), false],
    [`early exit E=${E}, k=4 (shared)`, () => fixedPolicy(earlyExitPlan(L, E), 4), true],
    [`skip set {${found.skip.join(',')}} (searched)`, () => fixedPolicy(skipPlan(L, found.skip), 'adaptive'), true],
    ['dynamic exit (DEL)', () => new DynamicExitPolicy(b.engine, 'adaptive'), true],
  ];
  // Greedy and self-speculative decoding alternate, best of `reps` each, so drift in machine load
  // affects both sides alike.
  for (const [name, policy, share] of modes) {
    let greedyMs = Infinity;
    let specMs = Infinity;
    let greedyIds: number[] = [];
    let spec: Awaited<ReturnType<typeof speculativeDecode>> | undefined;
    for (let r = 0; r < reps; r++) {
      const g = await decode(b.engine, b.prompt, { maxNewTokens });
      greedyMs = Math.min(greedyMs, g.ms);
      greedyIds = g.ids;
      const t = performance.now();
      const run = await speculativeDecode(b.engine, b.prompt, policy(), { maxNewTokens, shareExitCache: share });
      const ms = performance.now() - t;
      if (ms < specMs) {
        specMs = ms;
        spec = run;
      }
    }
    const greedyTps = (greedyIds.length / greedyMs) * 1000;
    const specTps = (spec!.ids.length / specMs) * 1000;
    rows.push({
      model: b.name,
      mode: name,
      tokens: spec!.ids.length,
      acceptance: spec!.stats.acceptanceRate,
      meanAccepted: spec!.stats.meanAcceptedLength,
      draftMs: spec!.stats.draftMs,
      verifyMs: spec!.stats.verifyMs,
      greedyTps,
      specTps,
      speedup: specTps / greedyTps,
      lossless: spec!.ids.length === greedyIds.length && spec!.ids.every((id, i) => id === greedyIds[i]),
    });
  }
  return rows;
}

async function exitTable(b: Bench, prompts: number[][]) {
  const L = b.engine.layerMap.numLayers;
  const sums = new Map<string, { layers: number; agree: number; n: number }>();
  for (const ids of prompts) {
    const res = await earlyExit(b.engine, { ids });
    for (const rule of res.rules) {
      for (const c of rule.curve) {
        const key = `${rule.rule}|${c.threshold}`;
        const s = sums.get(key) ?? { layers: 0, agree: 0, n: 0 };
        s.layers += c.avgLayers * ids.length;
        s.agree += c.agreement * ids.length;
        s.n += ids.length;
        sums.set(key, s);
      }
    }
  }
  return [...sums].map(([key, s]) => {
    const [rule, threshold] = key.split('|');
    return { model: b.name, rule, threshold: Number(threshold), blocksUsed: s.layers / s.n, blocksSaved: 1 - s.layers / s.n / L, agreement: s.agree / s.n };
  });
}

function table(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '';
  const keys = Object.keys(rows[0]);
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${keys.map((k) => fmt(r[k])).join(' | ')} |`)].join('\n');
}

async function main() {
  const benches: Bench[] = [];
  const stories = await loadModel(STORIES, { id: 'stories', provider: 'cpu' });
  const storyPrompts = PROMPTS.map((p) => stories.encode({ text: p }).ids);
  benches.push({ name: 'stories260K', engine: stories.engine, prompt: storyPrompts[0], dispose: () => stories.dispose() });
  if (fs.existsSync(path.join(DEMO, 'config.json'))) {
    const demo = await loadModel(DEMO, { id: 'demo', provider: 'cpu' });
    benches.push({ name: 'demo', engine: demo.engine, prompt: demo.encode({ text: PROMPTS[0] }).ids, dispose: () => demo.dispose() });
  }
  const realistic = await createEngine({ model: buildFixture({ form: 'pytorch', seed: 1, ...REALISTIC }), baseDir: '.' });
  const fixturePrompt = Array.from({ length: 48 }, (_, i) => 3 + ((i * 7919 + 13) % 2000));
  benches.push({ name: 'fixture d512 L8 V8192 (random)', engine: realistic, prompt: fixturePrompt, dispose: () => realistic.dispose() });
  // Deeper with a smaller vocabulary: the head is a small part of a forward, as in real LLMs.
  const deep = await createEngine({ model: buildFixture({ form: 'pytorch', seed: 2, ...REALISTIC, layers: 16, vocab: 2048 }), baseDir: '.' });
  const deepBench: Bench = { name: 'fixture d512 L16 V2048 (random)', engine: deep, prompt: fixturePrompt, dispose: () => deep.dispose() };

  const sweep = [];
  const spec = [];
  for (const b of [...benches, deepBench]) sweep.push(await sweepCost(b));
  await deepBench.dispose();
  for (const b of benches) spec.push(...(await specRuns(b, b.name.startsWith('fixture') ? 32 : 48, b.name.startsWith('fixture') ? 2 : 3)));
  const exits = (await exitTable(benches[0], storyPrompts)).filter((r) => r.rule === 'maxProb' || r.rule === 'stable');
  for (const b of benches) await b.dispose();

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`## Skip\n\nMachine: ${os.cpus().length} CPUs (nproc), ${cpu}; node ${process.version}; onnxruntime-node ${ort.env.versions.common}; CPU EP.\n`);
  console.log('### Single-block skip sweep (prefix reuse) vs full forwards\n');
  console.log(table(sweep));
  console.log('\n### Self-speculative decoding vs plain greedy (same prompt, same run, best of 3 alternating runs (2 on the fixture); 48 new tokens, 32 on the fixture)\n');
  console.log(table(spec));
  console.log('\n### Early exit on stories260K (3 prompts, logit lens): blocks saved vs agreement\n');
  console.log(table(exits));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
