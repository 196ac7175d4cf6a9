// Decode methods (protocol/decode.ts): lenses per layer x token, fitting and comparing lenses,
// neuron decoding and contrastive layer decoding.
import { createHash } from 'node:crypto';
import { neuronMatches, type CompareLensesResult, type DecodeLayersResult, type FitLensResult, type LensGrid, type LensKind, type NeuronDecoding, type TokenScore } from '../../protocol';
import { contrastiveDecode } from '../analyses/decode/contrastive';
import { readCorpus } from '../analyses/decode/corpus';
import { FIT_DEFAULTS, evaluateLenses, fitLens } from '../analyses/decode/fit';
import { collectStates, layerNames, lensGrid, nextTokenTargets, type AffineLens } from '../analyses/decode/lens';
import { lensFile, loadLens, modelKey, saveLens } from '../analyses/decode/lensStore';
import { decodeNeurons } from '../analyses/decode/neurons';
import type { LoadedModel } from '../model/load';
import { ModelError } from '../onnx/errors';
import type { SidecarServer } from '../server';

const LENS_KINDS: LensKind[] = ['logit', 'shortcut', 'tuned'];
/** Tokens kept per corpus text when fitting or comparing lenses. */
const MAX_TOKENS_PER_TEXT = 256;

function int(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ModelError('BAD_REQUEST', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function num(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max)) throw new ModelError('BAD_REQUEST', `${name} must be a number in [${min}, ${max}]`);
  return value;
}

function lensDirOf(dir: unknown): string {
  if (typeof dir !== 'string' || !dir) throw new ModelError('BAD_REQUEST', 'lensDir (a folder for fitted lenses) is required');
  return dir;
}

/** A fitted lens of this model from lensDir, or a clear error. */
async function fittedLens(model: LoadedModel, lensDir: string | undefined, kind: AffineLens['kind']): Promise<AffineLens> {
  const found = lensDir ? await loadLens(lensFile(lensDir, modelKey(model.info), kind)) : undefined;
  if (!found) throw new ModelError('BAD_REQUEST', `No ${kind} lens has been fitted for ${model.info.name} yet: run "layerlens: Fit Lens" first`);
  return found.lens;
}

/** The target id of a `target` param: an id, or the first non-special, non-blank token of a text. */
function resolveTarget(model: LoadedModel, target: number | string): number {
  if (typeof target === 'number') {
    const V = model.info.layerMap.vocabSize;
    if (!Number.isInteger(target) || target < 0 || target >= V) throw new ModelError('BAD_REQUEST', `target ${target} is outside the vocabulary [0, ${V})`);
    return target;
  }
  if (typeof target !== 'string' || target.length === 0) throw new ModelError('BAD_REQUEST', 'target must be a token id or a non-empty text');
  const firstToken = (text: string) => model.encode({ text }).tokens.find((t) => t.end > t.start);
  let first = firstToken(target);
  // SentencePiece tokenizers add their own leading space: " dog" would start with a bare space.
  if (first && first.text.trim() === '' && target.trim() !== '') first = firstToken(target.trimStart());
  if (!first) throw new ModelError('BAD_REQUEST', `target "${target}" has no tokens`);
  return first.id;
}

async function corpusIds(model: LoadedModel, spec: unknown): Promise<number[][]> {
  if (!spec || typeof spec !== 'object') throw new ModelError('BAD_REQUEST', 'corpus must be { files?: string[], texts?: string[] }');
  const texts = await readCorpus(spec);
  return texts.map((text) => model.tokenizer.encode(text).ids.slice(0, MAX_TOKENS_PER_TEXT)).filter((ids) => ids.length >= 2);
}

function vocabOf(model: LoadedModel, ids: Iterable<number>): Record<string, string> {
  const vocab: Record<string, string> = {};
  for (const id of ids) vocab[id] ??= model.tokenizer.tokenText(id);
  return vocab;
}

function* gridIds(grids: LensGrid[]): Iterable<number> {
  for (const g of grids) for (const row of g.topIds) for (const cell of row) yield* cell;
}

const scores = (model: LoadedModel, ids: Int32Array, values: Float32Array, n: number, k: number): TokenScore[] =>
  Array.from({ length: k }, (_, j) => ({ id: ids[n * k + j], text: model.tokenizer.tokenText(ids[n * k + j]), score: values[n * k + j] }));

export function register(server: SidecarServer): void {
  server.handle('decode/layers', async (params, ctx): Promise<DecodeLayersResult> => {
    const started = performance.now();
    const model = ctx.models.get(params.modelId);
    const engine = model.engine;
    const lenses = params.lenses ?? ['logit'];
    if (!Array.isArray(lenses) || lenses.length === 0 || lenses.some((l) => !LENS_KINDS.includes(l))) {
      throw new ModelError('BAD_REQUEST', `lenses must be a non-empty list of ${LENS_KINDS.join(', ')}`);
    }
    const k = int(params.topK, 'topK', 1, Math.min(50, model.info.layerMap.vocabSize), 5);
    const { ids, tokens } = model.encode(params);
    const affine = await Promise.all(lenses.map((l) => (l === 'logit' ? undefined : fittedLens(model, params.lensDir, l))));
    ctx.progress(0.1, 'running the model');
    const states = await collectStates(engine, ids, ctx.signal);
    const fixed = params.target === undefined || params.target === null ? undefined : resolveTarget(model, params.target);
    const requested = fixed === undefined ? nextTokenTargets(ids) : ids.map(() => fixed);
    const grids: LensGrid[] = [];
    let targets: number[] = requested;
    for (const [i, lens] of affine.entries()) {
      ctx.progress(0.2 + (0.8 * i) / lenses.length, `${lenses[i]} lens`);
      const out = await lensGrid(engine, states, { targets: requested, k, lens });
      grids.push(out.grid);
      targets = out.targets;
    }
    const L = engine.layerMap.numLayers;
    return {
      modelName: model.info.name,
      numLayers: L,
      layerNames: layerNames(L),
      tokens,
      targets,
      vocab: vocabOf(model, [...gridIds(grids), ...targets, ...ids]),
      grids,
      elapsedMs: performance.now() - started,
    };
  });

  server.handle('decode/fitLens', async (params, ctx): Promise<FitLensResult> => {
    const started = performance.now();
    const model = ctx.models.get(params.modelId);
    if (params.kind !== 'shortcut' && params.kind !== 'tuned') throw new ModelError('BAD_REQUEST', 'kind must be "shortcut" or "tuned"');
    const lensDir = lensDirOf(params.lensDir);
    const options = {
      kind: params.kind,
      heldOut: num(params.heldOut, 'heldOut', 0.01, 0.9, FIT_DEFAULTS.heldOut),
      ridge: num(params.ridge, 'ridge', 0, 1e3, FIT_DEFAULTS.ridge),
      steps: int(params.steps, 'steps', 1, 100_000, FIT_DEFAULTS.steps),
      learningRate: num(params.learningRate, 'learningRate', 1e-7, 10, FIT_DEFAULTS.learningRate),
    };
    const texts = await corpusIds(model, params.corpus);
    const fitKey = createHash('sha256').update(JSON.stringify([options, texts])).digest('hex').slice(0, 16);
    const key = modelKey(model.info);
    const file = lensFile(lensDir, key, params.kind);
    const cached = params.refit ? undefined : await loadLens(file).catch(() => undefined);
    if (cached && cached.meta.fitKey === fitKey) {
      const { trainTokens, heldOutTokens, evals, curve } = cached.meta;
      return { kind: params.kind, file, cached: true, trainTokens, heldOutTokens, evals, curve, elapsedMs: performance.now() - started };
    }
    const fitted = await fitLens(model.engine, texts, { ...options, signal: ctx.signal, onProgress: (f, m) => ctx.progress(f, m) });
    const meta = {
      kind: params.kind,
      modelKey: key,
      fitKey,
      layers: fitted.lens.m.length,
      hidden: fitted.lens.hidden,
      trainTokens: fitted.trainTokens,
      heldOutTokens: fitted.heldOutTokens,
      evals: fitted.evals,
      curve: fitted.curve,
      createdAt: new Date().toISOString(),
    };
    await saveLens(file, fitted.lens, meta);
    return { kind: params.kind, file, cached: false, trainTokens: meta.trainTokens, heldOutTokens: meta.heldOutTokens, evals: meta.evals, curve: meta.curve, elapsedMs: performance.now() - started };
  });

  server.handle('decode/compareLenses', async (params, ctx): Promise<CompareLensesResult> => {
    const started = performance.now();
    const model = ctx.models.get(params.modelId);
    const lensDir = lensDirOf(params.lensDir);
    const texts = await corpusIds(model, params.corpus);
    const kinds = params.lenses ?? LENS_KINDS;
    const lenses: (AffineLens | undefined)[] = [];
    for (const kind of kinds) {
      if (kind === 'logit') lenses.push(undefined);
      else if (params.lenses) lenses.push(await fittedLens(model, lensDir, kind));
      else {
        const found = await loadLens(lensFile(lensDir, modelKey(model.info), kind));
        if (found) lenses.push(found.lens);
      }
    }
    ctx.progress(0, `comparing ${lenses.length} lenses on ${texts.length} texts`);
    const evals = await evaluateLenses(model.engine, texts, lenses, ctx.signal);
    return { tokens: texts.reduce((n, t) => n + t.length, 0), evals, elapsedMs: performance.now() - started };
  });

  server.handle('decode/neurons', async (params, ctx) => {
    const model = ctx.models.get(params.modelId);
    const k = int(params.topK, 'topK', 1, 50, 8);
    const res = await decodeNeurons(model.engine, params.layer, k);
    const query = typeof params.query === 'string' ? params.query.trim().toLowerCase() : '';
    const all: NeuronDecoding[] = [];
    for (let n = 0; n < res.count; n++) {
      const promoted = scores(model, res.promotedIds, res.promotedScores, n, k);
      const suppressed = scores(model, res.suppressedIds, res.suppressedScores, n, k);
      const neuron = { index: n, norm: res.norms[n], promoted, suppressed };
      if (neuronMatches(neuron, query)) all.push(neuron);
    }
    const offset = int(params.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = int(params.limit, 'limit', 1, 10_000, 200);
    return { layer: params.layer, numLayers: model.info.layerMap.numLayers, total: res.count, matched: all.length, neurons: all.slice(offset, offset + limit) };
  });

  server.handle('decode/contrastive', async (params, ctx) => {
    const model = ctx.models.get(params.modelId);
    const { ids, tokens } = model.encode(params);
    const states = await collectStates(model.engine, ids, ctx.signal);
    const k = int(params.topK, 'topK', 1, 50, 5);
    const out = await contrastiveDecode(model.engine, states, { premature: params.premature, alpha: params.alpha, topK: k });
    const named = (xs: { id: number; score: number }[]): TokenScore[] => xs.map((x) => ({ ...x, text: model.tokenizer.tokenText(x.id) }));
    return { tokens, premature: out.premature, jsd: out.jsd, greedy: named(out.greedy), contrastive: named(out.contrastive) };
  });
}
