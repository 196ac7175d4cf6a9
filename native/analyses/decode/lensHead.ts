// The lens head: an onnxruntime graph that decodes residual states of every layer through the model's
// final norm and unembedding and reduces the vocab-sized distributions right there, so that
// layers x tokens x vocab logits never reach JavaScript.
//
// Per (layer g, token t) it returns the top-k tokens with log-probs, the entropy, KL(output || lens),
// and the log-prob and rank of a target token. The last group is the model's output (the last block's
// state; under an affine lens its map is the identity): its distribution is the reference for KL.
// An optional per-layer affine map is applied to the states first (linear-shortcut and tuned lenses).
//
// Vocab-sized work per group is one matmul and a few passes (softmax, p·z, top-k, target rank):
// - lse(z) = z_top1 − log p_top1 (from the softmax and the top-k, no separate log-sum-exp pass);
// - KL without another pass: with y = norm(h), z = y·Wᵀ + c and the output distribution p_t,
//   Σ_v p_tv log q_v = y·(Wᵀp_t) + c·p_t − lse(z), so KL = −H(p_t) − c·p_t − y·u_t + lse(z)
//   with u_t = Wᵀ p_t computed once per token.
import type * as ort from 'onnxruntime-node';
import type { HeadWeights } from '../../engine/api';
import { DType, GraphBuilder, f32, i64, openSession } from './graph';

/** States of G layers for T tokens, [G, T, d] row-major; the last group is the model's output. */
export interface LensHeadInput {
  states: Float32Array;
  groups: number;
  tokens: number;
  /** Target token id per token, [T]; -1: the model's own top-1 at that token. */
  targets: ArrayLike<number>;
  k: number;
  /** Per-group affine map x ↦ x·M_g + b_g: m [G, d, d], b [G, d]; the last group's must be the identity. Only for heads built with `affine`. */
  affine?: { m: Float32Array; b: Float32Array };
}

/** Reductions per (group, token), row-major [G, T] (top-k: [G, T, k]). */
export interface LensHeadOutput {
  topIds: Int32Array;
  /** Log-probabilities of the top-k tokens, descending. */
  topLogp: Float32Array;
  entropy: Float32Array;
  kl: Float32Array;
  targetLogp: Float32Array;
  /** Number of tokens with a strictly higher probability than the target (0 = top-1). */
  targetRank: Float32Array;
  /** The model's top-1 per token, [T] (what a -1 target resolves to). */
  finalTop1: Int32Array;
}

/** Builds the lens-head model bytes for a model's head weights. */
export function buildLensHeadGraph(w: HeadWeights, affine: boolean): Uint8Array {
  const d = w.unembed.cols;
  const V = w.unembed.rows;
  const g = new GraphBuilder();
  let states = g.input('states', DType.float, ['G', 'T', d]);
  const target = g.input('target', DType.int64, ['G', 'T', 1]);
  const k = g.input('k', DType.int64, [1]);
  if (affine) {
    const m = g.input('affine_m', DType.float, ['G', d, d]);
    const b = g.input('affine_b', DType.float, ['G', 1, d]);
    states = g.op('Add', [g.op('MatMul', [states, m]), b]);
  }
  const wt = g.floats(transpose(w.unembed.data, V, d), [d, V], 'unembed_t');
  const bias = w.unembedBias ? g.floats(w.unembedBias, [V], 'unembed_bias') : undefined;
  const lastAxis = g.ints([-1]);
  const first = g.ints([0]);
  const one = g.ints([1]);

  // Lens logits of every group and token, [G, T, V].
  const y = normFn(g, w)(states);
  const zw = g.op('MatMul', [y, wt]);
  const z = bias ? g.op('Add', [zw, bias]) : zw;
  const p = g.op('Softmax', [z], { axis: -1 });
  const [topz, topi] = g.opN('TopK', [z, k], ['topz', 'topi'], { axis: -1, largest: 1, sorted: 1 });
  const top1 = g.op('Slice', [topi, first, one, lastAxis]); // [G, T, 1]
  const lse = g.op('Sub', [g.op('Slice', [topz, first, one, lastAxis]), g.op('Log', [g.op('GatherElements', [p, top1], { axis: -1 })])]);
  g.op('Sub', [topz, lse], {}, 'topv');
  const lse2 = g.op('Squeeze', [lse, lastAxis]); // [G, T]
  const pz = g.op('ReduceSum', [g.op('Mul', [p, z]), lastAxis], { keepdims: 0 });
  g.op('Sub', [lse2, pz], {}, 'entropy');

  // The output distribution per token (last group): p_F [T, V], −H(p_F) − c·p_F and u = p_F·W [T, d].
  const lastGroup = g.op('Sub', [g.op('Gather', [g.op('Shape', [z]), g.ints([0], [])]), g.ints([1], [])]);
  const pF = g.op('Gather', [p, lastGroup], { axis: 0 });
  const logpF = g.op('LogSoftmax', [g.op('Gather', [z, lastGroup], { axis: 0 })], { axis: -1 });
  const negHF = g.op('ReduceSum', [g.op('Mul', [pF, logpF]), lastAxis], { keepdims: 0 });
  const u = g.op('Gemm', [pF, wt], { transB: 1 });
  const constPart = bias ? g.op('Sub', [negHF, g.op('MatMul', [pF, bias])]) : negHF; // [T]
  const yu = g.op('ReduceSum', [g.op('Mul', [y, u]), lastAxis], { keepdims: 0 }); // y·u_t, [G, T]
  const kl = g.op('Add', [g.op('Sub', [constPart, yu]), lse2]);
  g.op('Max', [kl, g.scalar(0)], {}, 'kl');

  // Target: a negative id means "the model's own top-1 at this position".
  const finalTop = g.op('Gather', [top1, lastGroup], { axis: 0 }, 'ftop'); // [T, 1]
  const tgt = g.op('Where', [g.op('Less', [target, g.ints([0], [])]), finalTop, target]);
  const zt = g.op('GatherElements', [z, tgt], { axis: -1 }); // [G, T, 1]
  g.op('Squeeze', [g.op('Sub', [zt, lse]), lastAxis], {}, 'tlogp');
  const above = g.op('Cast', [g.op('Greater', [z, zt])], { to: DType.float });
  g.op('ReduceSum', [above, lastAxis], { keepdims: 0 }, 'trank');

  g.output('topv', DType.float, ['G', 'T', 'K']);
  g.output('topi', DType.int64, ['G', 'T', 'K']);
  g.output('entropy', DType.float, ['G', 'T']);
  g.output('kl', DType.float, ['G', 'T']);
  g.output('tlogp', DType.float, ['G', 'T']);
  g.output('trank', DType.float, ['G', 'T']);
  g.output('ftop', DType.int64, ['T', 1]);
  return g.build(affine ? 'lens_head_affine' : 'lens_head');
}

/** The final norm as graph nodes: x ↦ norm(x) over the last axis. */
function normFn(g: GraphBuilder, w: HeadWeights): (x: string) => string {
  const d = w.norm.weight.length;
  const scale = g.floats(w.norm.weight, [d], 'norm_weight');
  if (w.norm.kind === 'layer') {
    const shift = g.floats(w.norm.bias ?? new Float32Array(d), [d], 'norm_bias');
    return (x) => g.op('LayerNormalization', [x, scale, shift], { axis: -1, epsilon: w.norm.eps });
  }
  const eps = g.scalar(w.norm.eps);
  return (x) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]), scale]);
  };
}

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c];
  }
  return out;
}

/** A loaded lens head (one ORT session). */
export class LensHead {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly hidden: number,
    readonly vocab: number,
    readonly affine: boolean,
  ) {}

  static async create(w: HeadWeights, affine: boolean): Promise<LensHead> {
    const session = await openSession(buildLensHeadGraph(w, affine));
    return new LensHead(session, w.unembed.cols, w.unembed.rows, affine);
  }

  /** Runs one chunk. The caller keeps G·T·V within memory (see `lensStats`). */
  async run(x: LensHeadInput): Promise<LensHeadOutput> {
    const { groups: G, tokens: T, k } = x;
    const d = this.hidden;
    if (x.states.length !== G * T * d || x.targets.length !== T) {
      throw new Error(`lens head: shape mismatch (states ${x.states.length}, expected ${G}x${T}x${d})`);
    }
    if (k < 1 || k > this.vocab) throw new Error(`lens head: k must be in 1..${this.vocab}`);
    if (Boolean(x.affine) !== this.affine) throw new Error('lens head: affine input does not match the head');
    const target = new Array<number>(G * T);
    for (let gi = 0; gi < G; gi++) for (let t = 0; t < T; t++) target[gi * T + t] = x.targets[t];
    for (const id of Array.from(x.targets)) if (!(Number.isInteger(id) && id >= -1 && id < this.vocab)) throw new Error(`lens head: target id ${id} outside the vocabulary`);
    const feeds: Record<string, ort.Tensor> = {
      states: f32(x.states, [G, T, d]),
      target: i64(target, [G, T, 1]),
      k: i64([k], [1]),
    };
    if (x.affine) {
      feeds.affine_m = f32(x.affine.m, [G, d, d]);
      feeds.affine_b = f32(x.affine.b, [G, 1, d]);
    }
    const out = await this.session.run(feeds);
    const topi = out.topi.data as BigInt64Array;
    return {
      topIds: Int32Array.from(topi, (v) => Number(v)),
      topLogp: out.topv.data as Float32Array,
      entropy: out.entropy.data as Float32Array,
      kl: out.kl.data as Float32Array,
      targetLogp: out.tlogp.data as Float32Array,
      targetRank: out.trank.data as Float32Array,
      finalTop1: Int32Array.from(out.ftop.data as BigInt64Array, (v) => Number(v)),
    };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
