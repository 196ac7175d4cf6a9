// Tuned lens: per-layer affine translators x ↦ h·M + b, trained with Adam to minimise
// KL(model output ‖ final norm + head of the translated state). Loss and closed-form gradients
// (softmax − p through the head, the final norm and the affine map) run in one onnxruntime graph for
// all layers at once; Adam updates run in JS. Translators start at the identity (the logit lens).
import type * as ort from 'onnxruntime-node';
import type { HeadWeights } from '../../engine/api';
import { DType, GraphBuilder, f32, openSession } from './graph';
import { transpose } from './lensHead';

/** Builds the loss + gradient graph: inputs h [G,N,d], final [N,d], m [G,d,d], b [G,1,d]. */
export function buildTranslatorGradGraph(w: HeadWeights): Uint8Array {
  const d = w.unembed.cols;
  const V = w.unembed.rows;
  const g = new GraphBuilder();
  const h = g.input('h', DType.float, ['G', 'N', d]);
  const final = g.input('final', DType.float, ['N', d]);
  const m = g.input('m', DType.float, ['G', d, d]);
  const b = g.input('b', DType.float, ['G', 1, d]);
  const wt = g.floats(transpose(w.unembed.data, V, d), [d, V], 'unembed_t');
  const bias = w.unembedBias ? g.floats(w.unembedBias, [V], 'unembed_bias') : undefined;
  const scale = g.floats(w.norm.weight, [d], 'norm_weight');
  const shift = w.norm.kind === 'layer' ? g.floats(w.norm.bias ?? new Float32Array(d), [d], 'norm_bias') : undefined;
  const eps = g.scalar(w.norm.eps);
  const last = g.ints([-1]);
  const meanLast = (x: string): string => g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });

  /** Normalised x̂ and 1/σ of the final norm (before its scale and shift). */
  const normalise = (x: string): { xhat: string; inv: string } => {
    const centred = shift ? g.op('Sub', [x, meanLast(x)]) : x;
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanLast(g.op('Mul', [centred, centred])), eps])])]);
    return { xhat: g.op('Mul', [centred, inv]), inv };
  };
  const logits = (xhat: string): string => {
    let y = g.op('Mul', [xhat, scale]);
    if (shift) y = g.op('Add', [y, shift]);
    const z = g.op('MatMul', [y, wt]);
    return bias ? g.op('Add', [z, bias]) : z;
  };

  const logp = g.op('LogSoftmax', [logits(normalise(final).xhat)], { axis: -1 }); // [N, V]
  const p = g.op('Exp', [logp]);
  const x = g.op('Add', [g.op('MatMul', [h, m]), b]);
  const { xhat, inv } = normalise(x);
  const logq = g.op('LogSoftmax', [logits(xhat)], { axis: -1 }); // [G, N, V]
  const q = g.op('Exp', [logq]);
  const klTok = g.op('ReduceSum', [g.op('Mul', [p, g.op('Sub', [logp, logq])]), last], { keepdims: 0 }); // [G, N]
  g.op('ReduceMean', [klTok], { axes: [1], keepdims: 0 }, 'loss');

  // Backward (per token; the caller divides by N): ∂/∂z = q − p, ∂/∂y = (q − p)·W.
  const gz = g.op('Sub', [q, p]);
  const gz2 = g.op('Reshape', [gz, g.ints([-1, V])]);
  const gy2 = g.op('Gemm', [gz2, wt], { transB: 1 }); // [G·N, d]
  const gy = g.op('Reshape', [gy2, g.op('Shape', [x])]);
  const gn = g.op('Mul', [gy, scale]); // ∂/∂x̂
  // RMS: ∂/∂x = (gn − x̂·mean(gn·x̂))·inv; layer norm also subtracts mean(gn).
  let inner = g.op('Sub', [gn, g.op('Mul', [xhat, meanLast(g.op('Mul', [gn, xhat]))])]);
  if (shift) inner = g.op('Sub', [inner, meanLast(gn)]);
  const gx = g.op('Mul', [inner, inv]);
  g.op('MatMul', [g.op('Transpose', [h], { perm: [0, 2, 1] }), gx], {}, 'gm');
  g.op('ReduceSum', [gx, g.ints([1])], { keepdims: 1 }, 'gb');
  g.output('loss', DType.float, ['G']);
  g.output('gm', DType.float, ['G', d, d]);
  g.output('gb', DType.float, ['G', 1, d]);
  return g.build('translator_grad');
}

/** Loss per group and gradients (mean over the N tokens) for a set of translators. */
export interface TranslatorGrad {
  loss: Float32Array;
  gm: Float32Array;
  gb: Float32Array;
}

export interface TrainOptions {
  steps: number;
  learningRate: number;
  /** Tokens per Adam step (a random subset of the training tokens). */
  batch: number;
  seed: number;
  /** Called every `evalEvery` steps (and at the end) with the current translators. */
  onEval?: (step: number, m: Float32Array, b: Float32Array) => Promise<void>;
  evalEvery?: number;
  signal?: AbortSignal;
}

/** Trains G translators on token states. */
export class TranslatorTrainer {
  private constructor(private readonly session: ort.InferenceSession, readonly hidden: number) {}

  static async create(w: HeadWeights): Promise<TranslatorTrainer> {
    return new TranslatorTrainer(await openSession(buildTranslatorGradGraph(w)), w.unembed.cols);
  }

  /** Loss and mean gradients on N tokens: h [G, N, d], final [N, d], m [G, d, d], b [G, d]. */
  async grad(h: Float32Array, final: Float32Array, G: number, N: number, m: Float32Array, b: Float32Array): Promise<TranslatorGrad> {
    const d = this.hidden;
    const out = await this.session.run({ h: f32(h, [G, N, d]), final: f32(final, [N, d]), m: f32(m, [G, d, d]), b: f32(b, [G, 1, d]) });
    const gm = out.gm.data as Float32Array;
    const gb = out.gb.data as Float32Array;
    for (let i = 0; i < gm.length; i++) gm[i] /= N;
    for (let i = 0; i < gb.length; i++) gb[i] /= N;
    return { loss: out.loss.data as Float32Array, gm, gb };
  }

  /**
   * Adam from the identity. `states` is [G, N, d] (group-major), `final` [N, d]. Returns translators
   * m [G, d, d] and b [G, d].
   */
  async train(states: Float32Array, final: Float32Array, G: number, N: number, opts: TrainOptions): Promise<{ m: Float32Array; b: Float32Array }> {
    const d = this.hidden;
    const m = new Float32Array(G * d * d);
    for (let g = 0; g < G; g++) for (let i = 0; i < d; i++) m[g * d * d + i * d + i] = 1;
    const b = new Float32Array(G * d);
    const adamM = new Adam(m.length);
    const adamB = new Adam(b.length);
    const batch = Math.min(opts.batch, N);
    const hb = new Float32Array(G * batch * d);
    const fb = new Float32Array(batch * d);
    let seed = opts.seed >>> 0;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    for (let step = 1; step <= opts.steps; step++) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      for (let r = 0; r < batch; r++) {
        const n = batch === N ? r : Math.floor(rand() * N);
        fb.set(final.subarray(n * d, (n + 1) * d), r * d);
        for (let g = 0; g < G; g++) hb.set(states.subarray((g * N + n) * d, (g * N + n + 1) * d), (g * batch + r) * d);
      }
      const { gm, gb } = await this.grad(hb, fb, G, batch, m, b);
      adamM.step(m, gm, opts.learningRate);
      adamB.step(b, gb, opts.learningRate);
      if (opts.onEval && (step % (opts.evalEvery ?? 50) === 0 || step === opts.steps)) await opts.onEval(step, m, b);
    }
    return { m, b };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Adam (Kingma & Ba) with the usual defaults, updating parameters in place. */
export class Adam {
  private readonly mom: Float64Array;
  private readonly vel: Float64Array;
  private t = 0;
  constructor(size: number, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-8) {
    this.mom = new Float64Array(size);
    this.vel = new Float64Array(size);
  }

  step(params: Float32Array, grad: Float32Array, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      const gi = grad[i];
      this.mom[i] = this.beta1 * this.mom[i] + (1 - this.beta1) * gi;
      this.vel[i] = this.beta2 * this.vel[i] + (1 - this.beta2) * gi * gi;
      params[i] -= (lr * (this.mom[i] / c1)) / (Math.sqrt(this.vel[i] / c2) + this.eps);
    }
  }
}
