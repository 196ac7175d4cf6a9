// The layer-wise engine: runs the stages of a partitioned model under an ExecutionPlan.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { identityPlan, type ExecutionPlan, type LayerMap, type PlanPatch, type PlanSlot, type TapName } from '../../protocol';
import { ModelError } from '../onnx/errors';
import { inlineExternalData, onnx, saveModel, type ModelProto, type TensorProto } from '../onnx/model';
import { DT, ortTypeOf, tensorToFloat32 } from '../onnx/tensor';
import type { GraphMapping } from '../graph/map';
import type { Partition, StageSpec } from '../graph/partition';
import type { Engine, ForwardOptions, ForwardResult, HeadWeights, KvCache, Mat, SlotOutputs, StageState } from './api';
import { SlotKvCache } from './cache';
import type { ProviderName, SessionFactory } from './session';
import { intTensor, matToTensor, sliceRows, tensorToMat, zeros, type FloatDType } from './tensors';

interface Stage {
  spec: Omit<StageSpec, 'model'>;
  session: ort.InferenceSession;
  /** Runs in flight; a retired stage (a joined block replaced by its sublayers) is released when it reaches 0. */
  busy: number;
  retired?: boolean;
}

/**
 * The sessions of one block. A separable block starts `joined` (attention + MLP in one session: one
 * session run and one thread-pool hand-over per block instead of two); the first plan that needs the
 * boundary between its sublayers (a sublayer skip, a patch at resid_mid) replaces it by `attn` + `mlp`
 * sessions; after `rejoinIdleMs` without such a plan the block is joined again. Both layouts are built
 * from `specs`. A non-separable block has one `block` session.
 */
interface LayerStages {
  attn?: Stage;
  mlp?: Stage;
  block?: Stage;
  joined?: Stage;
  specs?: { joined: StageSpec; attn: StageSpec; mlp: StageSpec };
  /** A split or join in progress. */
  switching?: Promise<void>;
  /** When a plan last needed this block split (ms, performance.now()). */
  lastSplitUse?: number;
}

/** Idle time after which split blocks are joined again (default). */
const REJOIN_IDLE_MS = 30_000;

/** What a slot run should return besides the residual (copies out of onnxruntime are skipped otherwise). */
interface SlotNeeds {
  attnOut: boolean;
  residMid: boolean;
  mlpOut: boolean;
}
const ALL_OUTPUTS: SlotNeeds = { attnOut: true, residMid: true, mlpOut: true };

/** Initializers smaller than this stay in memory when their stages are loaded (canonicalisation adds small ones). */
const RELEASE_MIN_BYTES = 1024;

interface InputInfo {
  type: string;
  dims: (number | string)[];
}

/** Where weights can be read again on demand (head weights, MLP output weights) without keeping them in memory. */
export type WeightSource = () => ModelProto;

/** Most padded tokens in one batched run of forwardBatch. */
const BATCH_TOKENS = 2048;

/** Idle time after which the lazily created monolithic session is released. */
const MONOLITHIC_IDLE_MS = 30_000;

class State implements StageState {
  private mat?: Mat;
  constructor(
    readonly tensor: ort.Tensor,
    readonly ctx: RunContext,
  ) {}
  get residual(): Mat {
    return (this.mat ??= tensorToMat(this.tensor));
  }
  get tokens(): number {
    return this.ctx.tokens;
  }
  withResidual(residual: Mat): State {
    if (residual.rows !== this.residual.rows || residual.cols !== this.residual.cols) {
      throw new ModelError('BAD_REQUEST', `withResidual: expected a ${this.residual.rows}x${this.residual.cols} residual, got ${residual.rows}x${residual.cols}`);
    }
    return new State(matToTensor(residual, this.ctx.dtype, this.tensor.dims), this.ctx);
  }
  withTensor(t: ort.Tensor): State {
    return new State(t, this.ctx);
  }
}

/** Per-call context shared by the states of one run. */
interface RunContext {
  dtype: FloatDType;
  /** Graph inputs and prelude side outputs, by name. */
  feeds: Record<string, ort.Tensor>;
  /** Tokens per sequence in the residual, padded (for graphs without past inputs: history + new). */
  tokens: number;
  /** Real (unpadded) new tokens of each sequence of the batch. */
  lengths: number[];
  /** Rows before `offset` are recomputed history (graphs without past inputs); results start at offset. */
  offset: number;
  pastLength: number;
  cache?: SlotKvCache;
}

export interface EngineParts {
  mapping: GraphMapping;
  factory: SessionFactory;
  /** The original model for the monolithic reference: a file path or encoded bytes. */
  monolithic: string | (() => Uint8Array);
  weights: WeightSource;
  /**
   * With `releaseWeights`: the initializers of these names as in the model file (external data left as
   * references), to load a stage whose weights were released (the sublayer stages of a joined block).
   */
  reloadInitializers?: (names: string[]) => TensorProto[];
}

/** Engine over stage sessions; build with `createEngine`. */
export class LayeredEngine implements Engine {
  readonly layerMap: LayerMap;
  readonly provider: ProviderName;
  readonly providerNote?: string;
  /** Initializers present in more than one stage (small tables such as rotary cos/sin). */
  readonly sharedInitializers: Partition['sharedInitializers'];
  private readonly dtype: FloatDType;
  private readonly inputs = new Map<string, InputInfo>();
  private monolithicSession?: Promise<ort.InferenceSession>;
  private monolithicTimer?: NodeJS.Timeout;
  private rejoinTimer?: NodeJS.Timeout;
  /** Split blocks are joined again after this long without a plan that needs them split. */
  rejoinIdleMs = REJOIN_IDLE_MS;
  private headWeightsCache?: HeadWeights;
  private mlpWeightsCache?: (Mat | undefined)[];
  private disposed = false;

  private readonly mapping: Pick<GraphMapping, 'unembed' | 'finalNorm' | 'mlpDownWeights'>;

  private constructor(
    private readonly parts: Omit<EngineParts, 'mapping'>,
    mapping: GraphMapping,
    private readonly prelude: Stage,
    private readonly layers: LayerStages[],
    private readonly headStage: Stage,
    shared: Partition['sharedInitializers'],
    /** Initializer bytes dropped after loading (with their length), re-read for lazily built stages. */
    private readonly released: Map<TensorProto, number>,
    private readonly externalDir?: string,
  ) {
    this.layerMap = mapping.layerMap;
    // keep only what is needed: the canonical graph holds the weights
    this.mapping = { unembed: mapping.unembed, finalNorm: mapping.finalNorm, mlpDownWeights: mapping.mlpDownWeights };
    this.provider = parts.factory.provider;
    this.providerNote = parts.factory.providerNote;
    this.dtype = this.layerMap.dtype;
    this.sharedInitializers = shared;
    const g = mapping.canonical.graph!;
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    for (const i of g.input ?? []) {
      if (inits.has(i.name)) continue;
      const dims = (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : (d.dimParam ?? '?')));
      this.inputs.set(i.name!, { type: ortTypeOf(i.type!.tensorType!.elemType!), dims });
    }
  }

  /**
   * Create one session per stage: the prelude, each block (joined attention + MLP where separable), the
   * head. With `externalDir`, external-data weights are read just before their stage is encoded; with
   * `releaseWeights`, an initializer's bytes are dropped once the last stage using it has its session.
   * Together they keep at most about one stage's weights on the JS side.
   */
  static async create({ mapping, ...parts }: EngineParts, partition: Partition, opts: { releaseWeights?: boolean; externalDir?: string; rejoinIdleMs?: number } = {}): Promise<LayeredEngine> {
    const layerSpecs = mapping.layerMap.blocks.map((_, layer) => {
      const subs = partition.sublayers.filter((s) => s.layer === layer);
      const joined = partition.joined[layer];
      return joined ? { joined, split: { attn: subs.find((s) => s.kind === 'attn')!, mlp: subs.find((s) => s.kind === 'mlp')! } } : { subs };
    });
    const eager = [partition.prelude, ...layerSpecs.flatMap((l) => (l.joined ? [l.joined] : l.subs!)), partition.head];
    const uses = new Map<TensorProto, number>();
    for (const spec of eager) for (const t of stageInits(spec)) uses.set(t, (uses.get(t) ?? 0) + 1);
    const released = new Map<TensorProto, number>();
    const make = async (spec: StageSpec): Promise<Stage> => {
      const stage = await loadStage(parts.factory, spec, opts.externalDir);
      if (opts.releaseWeights) {
        for (const t of stageInits(spec)) {
          const left = uses.get(t)! - 1;
          uses.set(t, left);
          if (left === 0 && (t.rawData?.length ?? 0) >= RELEASE_MIN_BYTES) {
            released.set(t, t.rawData!.length);
            t.rawData = new Uint8Array(0);
          }
        }
      }
      return stage;
    };
    const created: Stage[] = [];
    const track = async (spec: StageSpec) => {
      const stage = await make(spec);
      created.push(stage);
      return stage;
    };
    try {
      const prelude = await track(partition.prelude);
      const layers: LayerStages[] = [];
      for (const l of layerSpecs) {
        if (l.joined) {
          layers.push({ joined: await track(l.joined), specs: { joined: l.joined, ...l.split } });
          continue;
        }
        const stages: LayerStages = {};
        for (const s of l.subs!) stages[s.kind as 'attn' | 'mlp' | 'block'] = await track(s);
        layers.push(stages);
      }
      const head = await track(partition.head);
      const engine = new LayeredEngine(parts, mapping, prelude, layers, head, partition.sharedInitializers, released, opts.externalDir);
      if (opts.rejoinIdleMs !== undefined) engine.rejoinIdleMs = opts.rejoinIdleMs;
      return engine;
    } catch (e) {
      for (const s of created) await s.session.release();
      throw e;
    }
  }

  /** Replace a joined block by its attention and MLP sessions (concurrent callers share the work). */
  private async splitLayer(layer: number): Promise<void> {
    const l = this.layers[layer];
    while (l.switching) await l.switching.catch(() => undefined);
    if (!l.joined || !l.specs) return;
    const { attn: a, mlp: m } = l.specs;
    await this.switching(l, this.switchLayer(layer, [a, m], ([attn, mlp]) => {
      const joined = l.joined!;
      Object.assign(l, { attn, mlp, joined: undefined });
      retire(joined);
    }));
  }

  /** Mark a block as switching while `p` runs. */
  private async switching(l: LayerStages, p: Promise<void>): Promise<void> {
    l.switching = p;
    try {
      await p;
    } finally {
      if (l.switching === p) l.switching = undefined;
    }
  }

  /** Join a split block again (attention + MLP in one session). */
  private async joinLayer(layer: number): Promise<void> {
    const l = this.layers[layer];
    if (l.switching || l.joined || !l.attn || !l.mlp || !l.specs) return;
    await this.switching(l, this.switchLayer(layer, [l.specs.joined], ([joined]) => {
      const { attn, mlp } = l;
      Object.assign(l, { joined, attn: undefined, mlp: undefined });
      retire(attn!);
      retire(mlp!);
    }));
  }

  /**
   * Load stages of a block and hand them to `swap`. Released weights are read again from the model file
   * for the time it takes to load them, then dropped again.
   */
  private async switchLayer(layer: number, specs: StageSpec[], swap: (stages: Stage[]) => void): Promise<void> {
    const tensors = [...new Set(specs.flatMap((s) => [...stageInits(s)]))].filter((t) => this.released.has(t));
    const loaded: Stage[] = [];
    try {
      if (tensors.length) {
        const reload = this.parts.reloadInitializers;
        if (!reload) throw new ModelError('INTERNAL', `cannot reload the weights of block ${layer}`);
        const byName = new Map(reload(tensors.map((t) => t.name!)).map((t) => [t.name!, t]));
        for (const t of tensors) {
          const r = byName.get(t.name!);
          const bytes = r?.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL ? Number(r.externalData?.find((kv) => kv.key === 'length')?.value ?? -1) : (r?.rawData?.length ?? -1);
          if (!r || bytes !== this.released.get(t)) throw new ModelError('INTERNAL', `block ${layer}: weight ${t.name} not found again in the model file`);
          Object.assign(t, { rawData: r.rawData, dataLocation: r.dataLocation, externalData: r.externalData });
        }
      }
      for (const spec of specs) loaded.push(await loadStage(this.parts.factory, spec, this.externalDir));
      if (this.disposed) throw new ModelError('MODEL_NOT_LOADED', 'engine disposed');
      swap(loaded);
    } catch (e) {
      for (const s of loaded) await s.session.release();
      throw e;
    } finally {
      for (const t of tensors) Object.assign(t, { rawData: new Uint8Array(0), dataLocation: onnx.TensorProto.DataLocation.DEFAULT, externalData: [] });
    }
  }

  /** Note that a plan needed block `layer` split; join split blocks again after `rejoinIdleMs` without that. */
  private usedSplit(layer: number): void {
    const l = this.layers[layer];
    if (!l.specs) return;
    l.lastSplitUse = performance.now();
    this.scheduleRejoin(this.rejoinIdleMs);
  }

  private scheduleRejoin(delayMs: number): void {
    clearTimeout(this.rejoinTimer);
    // setTimeout fires at once for delays past 2^31 - 1 ms
    this.rejoinTimer = setTimeout(() => void this.rejoinIdle(), Math.min(delayMs, 2 ** 31 - 1));
    this.rejoinTimer.unref();
  }

  private async rejoinIdle(): Promise<void> {
    // Blocks not idle long enough yet (the timer's millisecond clock can fire a little before
    // performance.now() says the time is up) or busy switching are looked at again later, not dropped.
    let again = Infinity;
    for (let layer = 0; layer < this.layers.length && !this.disposed; layer++) {
      const l = this.layers[layer];
      if (!l.attn || !l.specs) continue;
      const left = this.rejoinIdleMs - (performance.now() - (l.lastSplitUse ?? 0));
      if (left > 0 || l.switching) {
        again = Math.min(again, Math.max(left, 1));
        continue;
      }
      // a block that cannot be joined stays split (until a plan splits it again)
      await this.joinLayer(layer).catch(() => undefined);
    }
    if (again !== Infinity && !this.disposed) this.scheduleRejoin(Math.ceil(again));
  }

  // ---------------------------------------------------------------- inputs

  private checkIds(ids: ArrayLike<number>): number[] {
    const arr = Array.from(ids);
    if (arr.length === 0) throw new ModelError('BAD_REQUEST', 'no token ids given');
    for (const id of arr) {
      if (!Number.isInteger(id) || id < 0 || id >= this.layerMap.vocabSize) {
        throw new ModelError('BAD_REQUEST', `token id ${id} is outside the vocabulary [0, ${this.layerMap.vocabSize})`);
      }
    }
    return arr;
  }

  /** Shape of a past-KV input holding `past` tokens for `batch` sequences (symbolic dims other than the length are the batch). */
  private pastDims(name: string, past: number, batch: number): number[] {
    const info = this.inputs.get(name)!;
    const axis = this.seqAxis(name);
    return info.dims.map((d, i) => (i === axis ? past : typeof d === 'number' ? d : batch));
  }

  /** Sequence axis of a past-KV input: the symbolic dim naming a length, else rank - 2. */
  private readonly seqAxis = (name: string): number => {
    const dims = this.inputs.get(name)?.dims ?? [];
    const i = dims.findIndex((d, k) => k > 0 && typeof d === 'string' && /past|seq|len|total/i.test(d));
    return i >= 0 ? i : dims.length - 2;
  };

  /** Graph-input feeds for a batch of sequences after `past` cached tokens, right-padded with a mask. */
  private graphFeeds(seqs: number[][], past: number): Record<string, ort.Tensor> {
    const B = seqs.length;
    const T = Math.max(...seqs.map((s) => s.length));
    const padded = seqs.flatMap((s) => [...s, ...new Array(T - s.length).fill(0)]);
    const mask = seqs.flatMap((s) => Array.from({ length: past + T }, (_, i) => (i < past + s.length ? 1 : 0)));
    const positions = seqs.flatMap(() => Array.from({ length: T }, (_, i) => past + i));
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, info] of this.inputs) {
      if (name === 'input_ids') feeds[name] = intTensor(info.type as 'int64', padded, [B, T]);
      else if (name === 'attention_mask') feeds[name] = intTensor(info.type as 'int64', mask, [B, past + T]);
      else if (name === 'position_ids') feeds[name] = intTensor(info.type as 'int64', positions, [B, T]);
      else if (/^past/.test(name)) feeds[name] = zeros(info.type, this.pastDims(name, past, B));
      else throw new ModelError('UNSUPPORTED_ARCHITECTURE', `do not know how to feed graph input "${name}"`);
    }
    return feeds;
  }

  /**
   * What to run for `newIds` after what a cache holds: with past inputs, the new ids after `past`
   * cached tokens; without, the whole history again (results start at `offset`).
   */
  private afterCache(newIds: number[], cache?: SlotKvCache): { runIds: number[]; pastLength: number; offset: number } {
    const past = cache?.length ?? 0;
    if (this.layerMap.hasKvCache || past === 0) return { runIds: newIds, pastLength: past, offset: 0 };
    return { runIds: [...cache!.history, ...newIds], pastLength: 0, offset: past };
  }

  private async run(stage: Stage, feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<ort.InferenceSession.ReturnType> {
    if (this.disposed) throw new ModelError('MODEL_NOT_LOADED', 'engine disposed');
    const f: Record<string, ort.Tensor> = {};
    for (const name of stage.spec.inputs) {
      const t = feeds[name];
      if (!t) throw new ModelError('INTERNAL', `stage ${stage.spec.name}: no value for input ${name}`);
      f[name] = t;
    }
    stage.busy++;
    try {
      return await (fetches ? stage.session.run(f, fetches) : stage.session.run(f));
    } finally {
      stage.busy--;
      if (stage.retired) retire(stage);
    }
  }

  // ---------------------------------------------------------------- stage primitives

  begin(ids: ArrayLike<number>, opts: { cache?: KvCache; cacheSlots?: number } = {}): Promise<StageState> {
    return this.beginState([this.checkIds(ids)], opts);
  }

  /** Run the prelude for one sequence (optionally after a cache) or a batch of sequences (no cache). */
  private async beginState(seqs: number[][], opts: { cache?: KvCache; cacheSlots?: number }): Promise<State> {
    if (seqs.length > 1 && opts.cache) throw new ModelError('BAD_REQUEST', 'a KV cache holds one sequence; batches run without one');
    const newIds = seqs[0];
    const cache = opts.cache as SlotKvCache | undefined;
    if (cache && !(cache instanceof SlotKvCache)) throw new ModelError('BAD_REQUEST', 'cache must come from newCache()');
    if (cache && opts.cacheSlots !== undefined && opts.cacheSlots > cache.numSlots) {
      throw new ModelError('BAD_REQUEST', `cache has ${cache.numSlots} slots, the plan needs ${opts.cacheSlots}`);
    }
    const { runIds, pastLength, offset } = this.afterCache(newIds, cache);
    const batch = seqs.length > 1 ? seqs : [runIds];
    const feeds = this.graphFeeds(batch, pastLength);
    const out = await this.run(this.prelude, feeds);
    for (const [k, v] of Object.entries(out)) feeds[k] = v;
    cache?.history.push(...newIds);
    const ctx: RunContext = {
      dtype: this.dtype,
      feeds,
      tokens: Math.max(...batch.map((s) => s.length)),
      lengths: seqs.map((s) => s.length),
      offset,
      pastLength,
      cache: this.layerMap.hasKvCache ? cache : undefined,
    };
    return new State(out[this.layerMap.embedOutput], ctx);
  }

  /** Run a block or sublayer stage on a state, reading and writing the slot's KV cache; all outputs unless `fetches`. */
  private async runStage(stage: Stage, state: State, slotIndex: number, fetches?: (slot: boolean) => string[]): Promise<ort.InferenceSession.ReturnType> {
    const { ctx } = state;
    const feeds: Record<string, ort.Tensor> = { ...ctx.feeds, [stage.spec.residualIn!]: state.tensor };
    const slot = ctx.cache?.slots[slotIndex];
    if (ctx.cache && !slot) throw new ModelError('BAD_REQUEST', `cache has no slot ${slotIndex}`);
    for (const p of stage.spec.pastInputs) {
      const cached = slot?.get(p);
      if (cached) feeds[p] = cached;
      else if (ctx.pastLength === 0) feeds[p] = zeros(this.inputs.get(p)!.type, this.pastDims(p, 0, ctx.lengths.length));
      else throw new ModelError('BAD_REQUEST', `slot ${slotIndex} has no cached keys/values for ${p}: the plan changed since the cache was filled`);
    }
    const out = await this.run(stage, feeds, fetches?.(!!slot));
    if (slot) stage.spec.pastInputs.forEach((p, i) => slot.set(p, out[stage.spec.presentOutputs[i]]));
    return out;
  }

  private async runSublayer(stage: Stage, state: State, slotIndex: number): Promise<{ state: State; branch: ort.Tensor }> {
    const out = await this.runStage(stage, state, slotIndex);
    return { state: state.withTensor(out[stage.spec.residualOut!]), branch: out[stage.spec.branchOut!] };
  }

  async runSlot(state: StageState, slot: PlanSlot, slotIndex: number): Promise<SlotOutputs> {
    return this.runSlotWith(state as State, slot, slotIndex);
  }

  /**
   * Run one plan slot. `mid` sees resid_mid (taps) and, when `mid.patched`, may change it (which needs the
   * block's sublayer sessions); `needs` says which sublayer outputs to return from a joined block.
   */
  private async runSlotWith(state: State, slot: PlanSlot, slotIndex: number, mid?: { patched: boolean; at: (s: State) => State }, needs: SlotNeeds = ALL_OUTPUTS): Promise<SlotOutputs> {
    if (!(state instanceof State)) throw new ModelError('BAD_REQUEST', 'state must come from begin()');
    const stages = this.layers[slot.layer];
    if (!stages) throw new ModelError('BAD_REQUEST', `plan slot ${slotIndex}: layer ${slot.layer} does not exist (model has ${this.layers.length})`);
    const attn = slot.attn !== false;
    const mlp = slot.mlp !== false;
    if (stages.block) {
      if (attn !== mlp) throw new ModelError('BAD_REQUEST', `block ${slot.layer}: attention and MLP are not separable in this graph; skip the whole block instead`);
      if (!attn) return { state };
      const r = await this.runSublayer(stages.block, state, slotIndex);
      return { state: r.state };
    }
    if (stages.joined && attn && mlp && !mid?.patched) {
      const stage = stages.joined;
      const j = stage.spec.joined!;
      const extra = [...(needs.attnOut ? [j.attnOut] : []), ...(needs.residMid ? [j.residMid] : []), ...(needs.mlpOut ? [j.mlpOut] : [])];
      const out = await this.runStage(stage, state, slotIndex, (cached) => [stage.spec.residualOut!, ...(cached ? stage.spec.presentOutputs : []), ...extra]);
      const result: SlotOutputs = { state: state.withTensor(out[stage.spec.residualOut!]) };
      if (needs.attnOut) result.attnOut = tensorToMat(out[j.attnOut]);
      if (needs.residMid) {
        const s = state.withTensor(out[j.residMid]);
        mid?.at(s);
        result.residMid = s.residual;
      }
      if (needs.mlpOut) result.mlpOut = tensorToMat(out[j.mlpOut]);
      return result;
    }
    // a sublayer skip or a patch between the sublayers needs the block split
    if (attn !== mlp || (attn && mid?.patched)) {
      if (stages.joined || stages.switching) await this.splitLayer(slot.layer);
      this.usedSplit(slot.layer);
    }
    // hold both sessions for the whole slot: a block being joined again retires them meanwhile
    const held = [attn ? stages.attn : undefined, mlp ? stages.mlp : undefined].filter((x): x is Stage => !!x);
    if (held.length !== Number(attn) + Number(mlp)) throw new ModelError('INTERNAL', `block ${slot.layer}: no sublayer sessions`);
    for (const h of held) h.busy++;
    try {
      const result: SlotOutputs = { state };
      let s = state;
      if (attn) {
        const r = await this.runSublayer(held[0], s, slotIndex);
        s = r.state;
        result.attnOut = tensorToMat(r.branch);
      }
      if (mid) s = mid.at(s);
      result.residMid = s.residual;
      if (mlp) {
        const r = await this.runSublayer(held[held.length - 1], s, slotIndex);
        s = r.state;
        result.mlpOut = tensorToMat(r.branch);
      }
      result.state = s;
      return result;
    } finally {
      for (const h of held) {
        h.busy--;
        if (h.retired) retire(h);
      }
    }
  }

  async head(residual: Mat): Promise<Mat> {
    const out = await this.runHead(matToTensor(residual, this.dtype), [this.layerMap.logitsOutput]);
    return tensorToMat(out[this.layerMap.logitsOutput]);
  }

  async finalNorm(residual: Mat): Promise<Mat> {
    const out = await this.runHead(matToTensor(residual, this.dtype), [this.layerMap.finalNormOutput]);
    return tensorToMat(out[this.layerMap.finalNormOutput]);
  }

  private runHead(residual: ort.Tensor, fetches: string[], feeds: Record<string, ort.Tensor> = {}) {
    return this.run(this.headStage, { ...feeds, [this.headStage.spec.residualIn!]: residual }, fetches);
  }

  // ---------------------------------------------------------------- forward

  private checkPlan(plan: ExecutionPlan): void {
    const n = this.layerMap.numLayers;
    if (!plan || !Array.isArray(plan.slots)) throw new ModelError('BAD_REQUEST', 'plan.slots must be an array');
    plan.slots.forEach((s, i) => {
      if (!Number.isInteger(s.layer) || s.layer < 0 || s.layer >= n) throw new ModelError('BAD_REQUEST', `plan slot ${i}: layer ${s.layer} is not in [0, ${n})`);
    });
    if (plan.exitAfter !== undefined && (!Number.isInteger(plan.exitAfter) || plan.exitAfter < -1 || plan.exitAfter >= plan.slots.length)) {
      throw new ModelError('BAD_REQUEST', `plan.exitAfter ${plan.exitAfter} is not a slot index`);
    }
    for (const p of plan.patches ?? []) {
      if (!/^(embed|blocks\.\d+\.(resid_pre|resid_mid|resid_post))$/.test(p.tap)) throw new ModelError('BAD_REQUEST', `patch tap ${p.tap} is not a residual tap`);
      if (p.vector.length !== this.layerMap.hiddenSize) throw new ModelError('BAD_REQUEST', `patch vector has ${p.vector.length} values, the model's hidden size is ${this.layerMap.hiddenSize}`);
    }
  }

  async forward(ids: ArrayLike<number>, opts: ForwardOptions = {}): Promise<ForwardResult> {
    return (await this.forwardSeqs([this.checkIds(ids)], opts))[0];
  }

  async forwardBatch(batch: ArrayLike<number>[], opts: Omit<ForwardOptions, 'cache'> = {}): Promise<ForwardResult[]> {
    const seqs = batch.map((ids) => this.checkIds(ids));
    // similar lengths together (less padding), at most BATCH_TOKENS padded tokens per run
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
    const results: ForwardResult[] = new Array(seqs.length);
    for (let k = 0; k < order.length; ) {
      const group = [order[k]];
      while (k + group.length < order.length && (group.length + 1) * seqs[order[k + group.length]].length <= BATCH_TOKENS) group.push(order[k + group.length]);
      const out = await this.forwardSeqs(group.map((i) => seqs[i]), opts);
      group.forEach((i, j) => (results[i] = out[j]));
      k += group.length;
    }
    return results;
  }

  /** Forward of one sequence (optionally with a cache) or a right-padded batch; results per sequence, unpadded. */
  private async forwardSeqs(seqs: number[][], opts: ForwardOptions): Promise<ForwardResult[]> {
    const plan = opts.plan ?? identityPlan(this.layerMap.numLayers);
    this.checkPlan(plan);
    const wanted = new Set(opts.taps ?? []);
    const known = new Set(this.layerMap.taps.filter((t) => t.available).map((t) => t.name));
    for (const t of wanted) if (!known.has(t)) throw new ModelError('BAD_REQUEST', `tap ${t} is not available in this model`);
    const signal = opts.signal;
    const check = () => {
      if (signal?.aborted) throw new ModelError('CANCELLED', 'cancelled');
    };
    check();
    let state = await this.beginState(seqs, { cache: opts.cache, cacheSlots: plan.slots.length });
    const { offset, tokens: T, lengths } = state.ctx;
    /** First row of sequence b's new tokens in a [B*T, .] Mat. */
    const start = (b: number) => b * T + offset;
    const split = (m: Mat): Mat[] => (lengths.length === 1 && offset === 0 && lengths[0] === m.rows ? [m] : lengths.map((n, b) => sliceRows(m, start(b), start(b) + n)));
    const taps = lengths.map(() => new Map<TapName, Mat>());
    const record = (tap: TapName, m: Mat) => split(m).forEach((x, b) => taps[b].set(tap, x));
    const patchesAt = new Map<string, PlanPatch[]>();
    for (const p of plan.patches ?? []) patchesAt.set(p.tap, [...(patchesAt.get(p.tap) ?? []), p]);
    const at = (tap: string, s: State): State => {
      const ps = patchesAt.get(tap);
      if (ps) {
        const m = { ...s.residual, data: Float32Array.from(s.residual.data) };
        for (const p of ps) {
          lengths.forEach((n, b) => {
            if (!Number.isInteger(p.position) || p.position < 0 || p.position >= n) throw new ModelError('BAD_REQUEST', `patch position ${p.position} is outside the ${n} tokens of this call`);
            m.data.set(p.vector, (start(b) + p.position) * m.cols);
          });
        }
        s = s.withResidual(m);
      }
      if (wanted.has(tap as TapName)) record(tap as TapName, s.residual);
      return s;
    };
    state = at('embed', state);
    const last = plan.exitAfter ?? plan.slots.length - 1;
    for (let i = 0; i <= last; i++) {
      check();
      const slot = plan.slots[i];
      const L = slot.layer;
      state = at(`blocks.${L}.resid_pre`, state);
      const mid = { patched: patchesAt.has(`blocks.${L}.resid_mid`), at: (s: State) => at(`blocks.${L}.resid_mid`, s) };
      const needs = { attnOut: wanted.has(`blocks.${L}.attn_out`), residMid: wanted.has(`blocks.${L}.resid_mid`), mlpOut: wanted.has(`blocks.${L}.mlp_out`) };
      const out = await this.runSlotWith(state, slot, i, mid, needs);
      if (wanted.has(`blocks.${L}.attn_out`) && out.attnOut) record(`blocks.${L}.attn_out`, out.attnOut);
      if (wanted.has(`blocks.${L}.mlp_out`) && out.mlpOut) record(`blocks.${L}.mlp_out`, out.mlpOut);
      state = at(`blocks.${L}.resid_post`, out.state as State);
    }
    check();
    const mode = opts.logits ?? 'all';
    const fetches = [...(mode !== 'none' ? [this.layerMap.logitsOutput] : []), ...(wanted.has('final_norm') ? [this.layerMap.finalNormOutput] : [])];
    const results: ForwardResult[] = taps.map((t) => ({ taps: t }));
    if (fetches.length) {
      let resid = state.tensor;
      // one sequence, last position only: run the head on that row alone
      const lastOnly = mode === 'last' && lengths.length === 1 && !wanted.has('final_norm') && this.headStage.spec.inputs.length === 1;
      if (lastOnly) resid = matToTensor(sliceRows(state.residual, state.residual.rows - 1), this.dtype);
      const out = await this.runHead(resid, fetches, state.ctx.feeds);
      if (wanted.has('final_norm')) record('final_norm', tensorToMat(out[this.layerMap.finalNormOutput]));
      if (mode !== 'none') {
        const logits = tensorToMat(out[this.layerMap.logitsOutput]);
        results.forEach((r, b) => {
          r.logits = lastOnly ? logits : mode === 'last' ? sliceRows(logits, start(b) + lengths[b] - 1, start(b) + lengths[b]) : split(logits)[b];
          if (wanted.has('logits')) r.taps.set('logits', r.logits);
        });
      }
    }
    return results;
  }

  newCache(plan?: ExecutionPlan): KvCache {
    if (plan) this.checkPlan(plan);
    return new SlotKvCache(plan?.slots.length ?? this.layerMap.numLayers, this.seqAxis);
  }

  // ---------------------------------------------------------------- monolithic reference

  private monolithic(): Promise<ort.InferenceSession> {
    if (!this.monolithicSession) {
      const src = this.parts.monolithic;
      this.monolithicSession = this.parts.factory.create(typeof src === 'string' ? src : src());
    }
    clearTimeout(this.monolithicTimer);
    this.monolithicTimer = setTimeout(() => void this.releaseMonolithic(), MONOLITHIC_IDLE_MS);
    this.monolithicTimer.unref();
    return this.monolithicSession;
  }

  private async releaseMonolithic(): Promise<void> {
    const s = this.monolithicSession;
    this.monolithicSession = undefined;
    clearTimeout(this.monolithicTimer);
    if (s) await (await s).release();
  }

  async forwardMonolithic(ids: ArrayLike<number>, opts: { cache?: KvCache; signal?: AbortSignal } = {}): Promise<Mat> {
    const newIds = this.checkIds(ids);
    const cache = opts.cache as SlotKvCache | undefined;
    if (cache && !(cache instanceof SlotKvCache)) throw new ModelError('BAD_REQUEST', 'cache must come from newCache()');
    if (opts.signal?.aborted) throw new ModelError('CANCELLED', 'cancelled');
    const { runIds, pastLength, offset } = this.afterCache(newIds, cache);
    const feeds = this.graphFeeds([runIds], pastLength);
    // identity plan: slot L holds layer L's keys/values
    const pairs = this.layers.flatMap((l, layer) => [l.joined ?? l.attn ?? l.block].filter((s): s is Stage => !!s).flatMap((s) => s.spec.pastInputs.map((p, i) => ({ layer, past: p, present: s.spec.presentOutputs[i] }))));
    if (cache && this.layerMap.hasKvCache) {
      for (const { layer, past: p } of pairs) {
        const t = cache.slots[layer]?.get(p);
        if (t) feeds[p] = t;
        else if (pastLength > 0) throw new ModelError('BAD_REQUEST', `cache slot ${layer} has no keys/values for ${p}`);
      }
    }
    const session = await this.monolithic();
    const out = await session.run(feeds);
    if (cache) {
      if (this.layerMap.hasKvCache) for (const { layer, past: p, present } of pairs) cache.slots[layer].set(p, out[present]);
      cache.history.push(...newIds);
    }
    const logits = tensorToMat(out[this.layerMap.logitsOutput]);
    return offset ? sliceRows(logits, offset) : logits;
  }

  // ---------------------------------------------------------------- weights

  headWeights(): HeadWeights {
    if (this.headWeightsCache) return this.headWeightsCache;
    const { mapping } = this;
    const inits = initializerMap(this.parts.weights());
    const get = (name: string | undefined) => (name ? tensorToFloat32(inits.get(name)!) : undefined);
    const d = this.layerMap.hiddenSize;
    const V = this.layerMap.vocabSize;
    const raw = get(mapping.unembed.weight)!;
    let unembed = raw;
    if (!mapping.unembed.vocabMajor) {
      unembed = new Float32Array(V * d);
      for (let i = 0; i < d; i++) for (let v = 0; v < V; v++) unembed[v * d + i] = raw[i * V + v];
    }
    const norm = mapping.finalNorm;
    this.headWeightsCache = {
      norm: { kind: norm.kind, weight: get(norm.weight) ?? new Float32Array(d).fill(1), bias: get(norm.bias), eps: norm.eps },
      unembed: { data: unembed, rows: V, cols: d },
      unembedBias: get(mapping.unembed.bias),
    };
    return this.headWeightsCache;
  }

  mlpOutputWeights(layer: number): Mat | undefined {
    if (!this.mlpWeightsCache) {
      const inits = initializerMap(this.parts.weights());
      this.mlpWeightsCache = this.mapping.mlpDownWeights.map((w) => {
        if (!w) return undefined;
        const t = inits.get(w)!;
        const [rows, cols] = t.dims!.map(Number);
        return { data: tensorToFloat32(t), rows, cols };
      });
    }
    return this.mlpWeightsCache[layer];
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.releaseMonolithic();
    this.disposed = true;
    clearTimeout(this.rejoinTimer);
    for (const s of [this.prelude, ...this.layers.flatMap((l) => [l.attn, l.mlp, l.block, l.joined]), this.headStage]) if (s) await s.session.release();
  }
}

const stageInits = (spec: StageSpec) => spec.model.graph?.initializer ?? [];

/**
 * Load a stage session. The stage is written to a temporary folder with its weights as external data
 * and loaded from there: onnxruntime then maps the weights instead of keeping a parsed copy of the
 * model bytes. With `externalDir`, the stage's external-data weights are read from there first.
 */
async function loadStage(factory: SessionFactory, spec: StageSpec, externalDir?: string): Promise<Stage> {
  if (externalDir) inlineExternalData(spec.model, externalDir, [...stageInits(spec)]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-stages-'));
  try {
    const file = path.join(dir, 'stage.onnx');
    saveModel(spec.model, file, { externalData: 'stage.onnx_data' });
    const { model: _dropped, ...rest } = spec;
    try {
      return { spec: rest, session: await factory.create(file), busy: 0 };
    } catch (e) {
      throw new ModelError('UNSUPPORTED_ARCHITECTURE', `stage ${spec.name} does not load in onnxruntime: ${(e as Error).message.split('\n')[0]}`);
    }
  } finally {
    removeQuietly(dir);
  }
}

/** Release a replaced stage's session now, or after its last run in flight. */
function retire(stage: Stage): void {
  stage.retired = true;
  if (stage.busy > 0) return;
  stage.retired = false;
  void stage.session.release().catch(() => undefined);
}

/** Remove a file or folder; where the OS keeps a loaded file locked (Windows), leave it to the temp cleaner. */
function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // still mapped by onnxruntime
  }
}

function initializerMap(model: ModelProto): Map<string, TensorProto> {
  return new Map((model.graph?.initializer ?? []).filter((t) => t.dataType === DT.FLOAT || t.dataType === DT.FLOAT16 || t.dataType === DT.DOUBLE).map((t) => [t.name!, t]));
}
