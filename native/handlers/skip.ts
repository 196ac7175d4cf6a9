// Skip methods (protocol/skip.ts): layer sweeps, the early-exit simulator, self-speculative decoding
// and custom plans, on a loaded model. Input is checked here; bad input becomes BAD_REQUEST /
// BAD_DATASET with a readable message.
import type { EarlyExitResult, ExitRule, PlanRunResult, SelfSpecResult, SkipSweepResult, SweepEntry, SweepOptions } from '../../protocol';
import { CorpusError, parseCorpus } from '../analyses/skip/corpus';
import { earlyExit } from '../analyses/skip/earlyExit';
import { BadPlanError, runPlan } from '../analyses/skip/planRun';
import { BadDraftError, selfSpeculative } from '../analyses/skip/selfSpec';
import { layerSweep } from '../analyses/skip/sweep';
import type { LoadedModel } from '../model/load';
import { ModelError } from '../onnx/errors';
import type { SidecarServer } from '../server';

/** Tokens kept per corpus text in a sweep. */
const MAX_TOKENS_PER_TEXT = 256;
/** Progress partials at most this often (ms). */
const PARTIAL_INTERVAL_MS = 250;

function int(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ModelError('BAD_REQUEST', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function eosIds(model: LoadedModel): number[] {
  const cfg = model.config.eosTokenId;
  const ids = new Set(Array.isArray(cfg) ? cfg : cfg === undefined ? [] : [cfg]);
  if (model.tokenizer.eosId !== undefined) ids.add(model.tokenizer.eosId);
  return [...ids];
}

/** Analyses throw plain errors for bad plans / drafts / corpora: give them stable codes. */
async function coded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof BadPlanError || e instanceof BadDraftError) throw new ModelError('BAD_REQUEST', e.message);
    if (e instanceof CorpusError) throw new ModelError('BAD_DATASET', e.message);
    throw e;
  }
}

function sweepOptions(o: unknown, model: LoadedModel): SweepOptions {
  if (o === undefined) return {};
  if (!o || typeof o !== 'object') throw new ModelError('BAD_REQUEST', 'options must be an object');
  const opts = o as SweepOptions;
  const L = model.engine.layerMap.numLayers;
  if (opts.spans !== undefined && (!Array.isArray(opts.spans) || opts.spans.some((s) => !Number.isInteger(s) || s < 2 || s >= L))) {
    throw new ModelError('BAD_REQUEST', `spans must be span lengths in [2, ${L - 1}]`);
  }
  return opts;
}

function thresholds(t: unknown): Partial<Record<ExitRule, number[]>> | undefined {
  if (t === undefined) return undefined;
  const ok = (v: unknown) => Array.isArray(v) && v.length > 0 && v.length <= 64 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!t || typeof t !== 'object' || Object.entries(t).some(([k, v]) => !['maxProb', 'entropy', 'stable'].includes(k) || !ok(v))) {
    throw new ModelError('BAD_REQUEST', 'thresholds must map maxProb / entropy / stable to 1..64 finite numbers');
  }
  return t as Partial<Record<ExitRule, number[]>>;
}

export function register(server: SidecarServer): void {
  server.handle('skip/sweep', async (params, ctx): Promise<SkipSweepResult> => {
    const started = performance.now();
    const model = ctx.models.get(params.modelId);
    const { ids, tokens } = model.encode(params);
    const texts = [ids];
    if (params.corpus !== undefined) {
      const c = params.corpus;
      if (!c || typeof c.content !== 'string' || (c.format !== 'jsonl' && c.format !== 'text')) {
        throw new ModelError('BAD_REQUEST', 'corpus must be { content: string, format: "jsonl" | "text" }');
      }
      const corpus = await coded(Promise.resolve().then(() => parseCorpus(c.content, c.format)));
      for (const text of corpus) texts.push(model.tokenizer.encode(text).ids.slice(0, MAX_TOKENS_PER_TEXT));
    }
    const answerIndex = params.answerIndex === undefined ? undefined : int(params.answerIndex, 'answerIndex', 1, ids.length - 1, 1);
    let lastPartial = 0;
    const out = await layerSweep(model.engine, {
      texts,
      answerIndex,
      options: sweepOptions(params.options, model),
      signal: ctx.signal,
      tokenText: (id) => model.tokenizer.tokenText(id),
      onProgress: (fraction: number, entries: SweepEntry[]) => {
        const now = performance.now();
        if (now - lastPartial < PARTIAL_INTERVAL_MS && fraction < 1) return;
        lastPartial = now;
        ctx.progress(fraction, `${entries.length} plans scored`, { entries });
      },
    });
    return { analysis: 'sweep', tokens, elapsedMs: performance.now() - started, ...out };
  });

  server.handle('skip/earlyExit', async (params, ctx): Promise<EarlyExitResult> => {
    const started = performance.now();
    const model = ctx.models.get(params.modelId);
    const { ids, tokens } = model.encode(params);
    const out = await earlyExit(model.engine, { ids, thresholds: thresholds(params.thresholds), signal: ctx.signal });
    return { analysis: 'earlyExit', tokens, elapsedMs: performance.now() - started, ...out };
  });

  server.handle('skip/selfSpec', async (params, ctx): Promise<SelfSpecResult> => {
    const model = ctx.models.get(params.modelId);
    const { ids, tokens } = model.encode(params);
    if (!params.mode || typeof params.mode !== 'object') throw new ModelError('BAD_REQUEST', 'mode (the drafting mode) is required');
    const maxNewTokens = int(params.maxNewTokens, 'maxNewTokens', 1, 1024, 48);
    model.checkContext(ids.length + maxNewTokens);
    const draftLength = params.draftLength === 'adaptive' || params.draftLength === undefined ? 'adaptive' : int(params.draftLength, 'draftLength', 1, 32, 4);
    const temperature = params.temperature ?? 0;
    if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 5)) throw new ModelError('BAD_REQUEST', 'temperature must be a number in [0, 5]');
    const out = await coded(
      selfSpeculative(model.engine, {
        prompt: ids,
        mode: params.mode,
        maxNewTokens,
        draftLength,
        temperature,
        seed: int(params.seed, 'seed', 0, 2 ** 31 - 1, 0),
        eosTokenIds: eosIds(model),
        signal: ctx.signal,
        onProgress: (fraction, message) => ctx.progress(fraction, message),
      }),
    );
    return {
      analysis: 'selfSpec',
      ...out,
      promptTokens: tokens,
      text: model.tokenizer.decode(out.ids),
      tokens: out.tokens.map((t) => ({ ...t, text: model.tokenizer.tokenText(t.id) })),
    };
  });

  server.handle('skip/runPlan', async (params, ctx): Promise<PlanRunResult> => {
    const model = ctx.models.get(params.modelId);
    const { ids, tokens } = model.encode(params);
    const maxNewTokens = int(params.maxNewTokens, 'maxNewTokens', 1, 512, 32);
    model.checkContext(ids.length + maxNewTokens);
    const lm = model.engine.layerMap;
    for (const s of Array.isArray(params.plan?.slots) ? params.plan.slots : []) {
      if ((s.attn === false) !== (s.mlp === false) && lm.blocks[s.layer] && !lm.blocks[s.layer].sublayersSeparable) {
        throw new ModelError('BAD_REQUEST', `block ${s.layer}: attention and MLP are not separable in this graph; skip the whole block instead`);
      }
    }
    const out = await coded(runPlan(model.engine, { ids, plan: params.plan, maxNewTokens, eosTokenIds: eosIds(model), signal: ctx.signal }));
    return {
      analysis: 'planRun',
      ...out,
      tokens,
      original: { ids: out.original, text: model.tokenizer.decode(out.original) },
      modified: { ids: out.modified, text: model.tokenizer.decode(out.modified) },
    };
  });
}
