// A small causal transformer in plain TypeScript that implements the Engine contract (plans, stage
// primitives, per-slot KV caches, taps). The skip analyses are tested against it before and besides
// the ONNX engine: it is an independent implementation of the same semantics, so prefix reuse and
// speculative decoding can be checked against full recomputation and plain decoding.
import type { Engine, ForwardOptions, ForwardResult, HeadWeights, KvCache, Mat, SlotOutputs, StageState } from '../../../native/engine/api';
import { identityPlan, type ExecutionPlan, type LayerMap, type PlanSlot, type TapName } from '../../../protocol';

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const mat = (rows: number, cols: number, data = new Float32Array(rows * cols)): Mat => ({ data, rows, cols });

function matmul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const x = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += x * b.data[k * b.cols + j];
    }
  }
  return out;
}

function rmsNorm(x: Mat): Mat {
  const out = mat(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) s += x.data[i * x.cols + j] ** 2;
    const r = 1 / Math.sqrt(s / x.cols + 1e-5);
    for (let j = 0; j < x.cols; j++) out.data[i * x.cols + j] = x.data[i * x.cols + j] * r;
  }
  return out;
}

const add = (a: Mat, b: Mat): Mat => mat(a.rows, a.cols, a.data.map((v, i) => v + b.data[i]));

class ToyCache implements KvCache {
  slots = new Map<number, { k: Float32Array[]; v: Float32Array[] }>();
  length = 0;
  truncate(length: number): void {
    this.length = Math.min(this.length, length);
    for (const s of this.slots.values()) {
      s.k.length = Math.min(s.k.length, length);
      s.v.length = Math.min(s.v.length, length);
    }
  }
  clone(): KvCache {
    const c = new ToyCache();
    c.length = this.length;
    for (const [i, s] of this.slots) c.slots.set(i, { k: [...s.k], v: [...s.v] });
    return c;
  }
}

class ToyState implements StageState {
  constructor(readonly residual: Mat, readonly pos0: number, readonly cache?: ToyCache) {}
  get tokens() {
    return this.residual.rows;
  }
  withResidual(residual: Mat): StageState {
    return new ToyState(residual, this.pos0, this.cache);
  }
}

interface Block {
  q: Mat;
  k: Mat;
  v: Mat;
  o: Mat;
  up: Mat;
  down: Mat;
}

export class ToyEngine implements Engine {
  readonly layerMap: LayerMap;
  readonly provider = 'cpu' as const;
  private readonly embed: Mat;
  private readonly pos: Mat;
  private readonly unembedT: Mat;
  private readonly blocks: Block[];

  constructor(opts: { layers: number; d?: number; vocab?: number; seed?: number; scale?: number }) {
    const L = opts.layers;
    const d = opts.d ?? 16;
    const V = opts.vocab ?? 32;
    const rand = prng(opts.seed ?? 1);
    const scale = opts.scale ?? 0.6;
    const w = (r: number, c: number, s: number) => mat(r, c, Float32Array.from({ length: r * c }, () => rand() * s));
    this.embed = w(V, d, 1);
    this.pos = w(256, d, 0.3);
    this.unembedT = w(d, V, 1);
    this.blocks = Array.from({ length: L }, () => ({
      q: w(d, d, scale), k: w(d, d, scale), v: w(d, d, scale), o: w(d, d, scale), up: w(d, 2 * d, scale), down: w(2 * d, d, scale),
    }));
    this.layerMap = {
      graphForm: 'pytorch', numLayers: L, hiddenSize: d, vocabSize: V, dtype: 'float32', inputIdsType: 'int64',
      hasKvCache: true, hasPositionIds: true, embedOutput: 'embed', finalNormOutput: 'norm', logitsOutput: 'logits',
      blocks: Array.from({ length: L }, (_, index) => ({ index, residIn: `r${index}`, residMid: `m${index}`, residOut: `r${index + 1}`, sublayersSeparable: true })),
      taps: [],
    };
  }

  async begin(ids: ArrayLike<number>, opts?: { cache?: KvCache }): Promise<StageState> {
    const cache = opts?.cache as ToyCache | undefined;
    const pos0 = cache?.length ?? 0;
    const d = this.layerMap.hiddenSize;
    const x = mat(ids.length, d);
    for (let t = 0; t < ids.length; t++) {
      for (let j = 0; j < d; j++) x.data[t * d + j] = this.embed.data[ids[t] * d + j] + this.pos.data[(pos0 + t) * d + j];
    }
    return new ToyState(x, pos0, cache);
  }

  async runSlot(state: StageState, slot: PlanSlot, slotIndex: number): Promise<SlotOutputs> {
    const s = state as ToyState;
    const b = this.blocks[slot.layer];
    const d = this.layerMap.hiddenSize;
    const T = s.tokens;
    let attnOut = mat(T, d);
    if (slot.attn !== false) {
      const h = rmsNorm(s.residual);
      const q = matmul(h, b.q);
      const k = matmul(h, b.k);
      const v = matmul(h, b.v);
      let kv = { k: [] as Float32Array[], v: [] as Float32Array[] };
      if (s.cache) {
        if (!s.cache.slots.has(slotIndex)) s.cache.slots.set(slotIndex, kv);
        kv = s.cache.slots.get(slotIndex)!;
        kv.k.length = Math.min(kv.k.length, s.pos0);
        kv.v.length = Math.min(kv.v.length, s.pos0);
      }
      const past = kv.k.length;
      const keys = [...kv.k, ...Array.from({ length: T }, (_, t) => k.data.slice(t * d, (t + 1) * d))];
      const vals = [...kv.v, ...Array.from({ length: T }, (_, t) => v.data.slice(t * d, (t + 1) * d))];
      if (s.cache) {
        kv.k.push(...keys.slice(past));
        kv.v.push(...vals.slice(past));
      }
      const ctx = mat(T, d);
      for (let t = 0; t < T; t++) {
        const n = past + t + 1;
        const scores = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let sc = 0;
          for (let c = 0; c < d; c++) sc += q.data[t * d + c] * keys[j][c];
          scores[j] = sc / Math.sqrt(d);
        }
        const m = Math.max(...scores);
        let z = 0;
        for (let j = 0; j < n; j++) z += (scores[j] = Math.exp(scores[j] - m));
        for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) ctx.data[t * d + c] += (scores[j] / z) * vals[j][c];
      }
      attnOut = matmul(ctx, b.o);
    }
    const residMid = add(s.residual, attnOut);
    let mlpOut = mat(T, d);
    if (slot.mlp !== false) {
      const up = matmul(rmsNorm(residMid), b.up);
      up.data.forEach((x, i) => (up.data[i] = Math.max(0, x)));
      mlpOut = matmul(up, b.down);
    }
    if (s.cache) s.cache.length = s.pos0 + T;
    return { state: new ToyState(add(residMid, mlpOut), s.pos0, s.cache), attnOut, residMid, mlpOut };
  }

  async finalNorm(residual: Mat): Promise<Mat> {
    return rmsNorm(residual);
  }

  async head(residual: Mat): Promise<Mat> {
    return matmul(rmsNorm(residual), this.unembedT);
  }

  async forward(ids: ArrayLike<number>, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const plan = opts.plan ?? identityPlan(this.layerMap.numLayers);
    const taps = new Map<TapName, Mat>();
    const want = new Set(opts.taps ?? []);
    let state = await this.begin(ids, { cache: opts.cache });
    const end = Math.min(plan.exitAfter ?? plan.slots.length - 1, plan.slots.length - 1);
    for (let j = 0; j <= end; j++) {
      const slot = plan.slots[j];
      const out = await this.runSlot(state, slot, j);
      const name = `blocks.${slot.layer}.resid_post` as TapName;
      if (want.has(name)) taps.set(name, out.state.residual);
      state = out.state;
    }
    if (opts.cache) (opts.cache as ToyCache).length = (state as ToyState).pos0 + ids.length;
    if (opts.logits === 'none') return { taps };
    const logits = await this.head(state.residual);
    if (opts.logits === 'last') return { taps, logits: mat(1, logits.cols, logits.data.slice((logits.rows - 1) * logits.cols)) };
    return { taps, logits };
  }

  async forwardMonolithic(ids: ArrayLike<number>, opts?: { cache?: KvCache }): Promise<Mat> {
    return (await this.forward(ids, { cache: opts?.cache })).logits!;
  }

  async forwardBatch(batch: ArrayLike<number>[], opts?: Omit<ForwardOptions, 'cache'>): Promise<ForwardResult[]> {
    return Promise.all(batch.map((ids) => this.forward(ids, opts)));
  }

  newCache(_plan?: ExecutionPlan): KvCache {
    return new ToyCache();
  }

  headWeights(): HeadWeights {
    const { hiddenSize: d, vocabSize: V } = this.layerMap;
    const unembed = mat(V, d);
    for (let v = 0; v < V; v++) for (let j = 0; j < d; j++) unembed.data[v * d + j] = this.unembedT.data[j * V + v];
    return { norm: { kind: 'rms', weight: new Float32Array(d).fill(1), eps: 1e-5 }, unembed };
  }

  mlpOutputWeights(): undefined {
    return undefined;
  }

  async dispose(): Promise<void> {}
}
