// Core methods (protocol/core.ts): sidecar info, model load/unload/list, tokenisation, next-token runs
// and generation under an optional execution plan.
import * as ort from 'onnxruntime-node';
import { version } from '../../package.json';
import type { ExecutionProviderName, GeneratePartial, GenerateResult, ModelInfo } from '../../protocol';
import { argmax, softmax } from '../analyses/skip/math';
import { rng } from '../util/random';
import type { LoadedModel } from '../model/load';
import { ModelError } from '../onnx/errors';
import type { SidecarServer } from '../server';

const PROVIDERS: ExecutionProviderName[] = ['cpu', 'webgpu', 'cuda'];
const DEFAULT_TOP_K = 5;
const DEFAULT_MAX_NEW_TOKENS = 32;
const MAX_NEW_TOKENS = 4096;
/** Generation reports its partial ids at most this often (and after the first and last token). */
const PROGRESS_INTERVAL_MS = 100;

/** Execution providers this onnxruntime-node build ships with. */
function availableProviders(): ExecutionProviderName[] {
  const names = new Set(ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name));
  return PROVIDERS.filter((p) => names.has(p));
}

function intInRange(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ModelError('BAD_REQUEST', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Draw an index from a probability vector with a uniform number in [0, 1). */
function sample(probs: Float64Array, u: number): number {
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i];
    if (u < acc) return i;
  }
  return probs.length - 1;
}

function eosIds(model: LoadedModel): Set<number> {
  const ids = new Set<number>();
  const cfg = model.config.eosTokenId;
  for (const id of Array.isArray(cfg) ? cfg : cfg === undefined ? [] : [cfg]) ids.add(id);
  const tok = model.tokenizer.eosId;
  if (tok !== undefined) ids.add(tok);
  return ids;
}

export function register(server: SidecarServer): void {
  server.handle('sidecar/info', async () => ({
    pid: process.pid,
    version,
    ortVersion: ort.env.versions.common ?? 'unknown',
    providers: availableProviders(),
  }));

  server.handle('model/load', async (params, ctx) => {
    const model = await ctx.models.load(params, (fraction, message) => ctx.progress(fraction, message));
    return model.info;
  });

  server.handle('model/unload', async (params, ctx) => {
    await ctx.models.unload(params.modelId);
    return { ok: true as const };
  });

  server.handle('model/list', async (_params, ctx) => ctx.models.list().map((m): ModelInfo => m.info));

  server.handle('model/tokenize', async (params, ctx) => ({ tokens: ctx.models.get(params.modelId).encode(params).tokens }));

  server.handle('model/run', async (params, ctx) => {
    const model = ctx.models.get(params.modelId);
    const topK = intInRange(params.topK, 'topK', 1, model.info.layerMap.vocabSize, DEFAULT_TOP_K);
    const { ids, tokens } = model.encode(params);
    const started = performance.now();
    const logits = await model.nextLogits(ids, { plan: params.plan, signal: ctx.signal });
    return { tokens, next: model.topTokens(logits, topK), provider: model.engine.provider, elapsedMs: performance.now() - started };
  });

  server.handle('model/generate', async (params, ctx): Promise<GenerateResult> => {
    const model = ctx.models.get(params.modelId);
    const maxNew = intInRange(params.maxNewTokens, 'maxNewTokens', 1, MAX_NEW_TOKENS, DEFAULT_MAX_NEW_TOKENS);
    const temperature = params.temperature ?? 0;
    if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new ModelError('BAD_REQUEST', `temperature must be a number >= 0, got ${JSON.stringify(params.temperature)}`);
    }
    const seed = intInRange(params.seed, 'seed', 0, 2 ** 32 - 1, 0);
    const { ids: prompt, tokens } = model.encode(params);
    const room = (model.contextLength ?? Infinity) - prompt.length;
    const limit = Math.min(maxNew, room);
    const eos = eosIds(model);
    const rand = rng(seed);
    const started = performance.now();

    const cache = model.engine.newCache(params.plan);
    const out: number[] = [];
    let stop: GenerateResult['stop'] = limit < maxNew ? 'context' : 'maxNewTokens';
    let input = prompt;
    let reported = -Infinity;
    while (out.length < limit) {
      const row = await model.nextLogits(input, { plan: params.plan, cache, signal: ctx.signal });
      const next = temperature === 0 ? argmax(row) : sample(softmax(row, temperature), rand());
      out.push(next);
      const last = eos.has(next) || out.length === limit;
      if (last || performance.now() - reported >= PROGRESS_INTERVAL_MS) {
        ctx.progress(out.length / limit, undefined, { ids: [...out] } satisfies GeneratePartial);
        reported = performance.now();
      }
      if (eos.has(next)) {
        stop = 'eos';
        break;
      }
      input = [next];
    }
    return { promptTokens: tokens, ids: out, text: model.tokenizer.decode(out), stop, elapsedMs: performance.now() - started };
  });
}
