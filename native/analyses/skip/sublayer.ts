// Residual-stream statistics of the unmodified model, block by block: how much each sublayer writes
// into the residual stream (relative norm, cosine with the residual), how far each block moves the
// hidden state, and how alike the block outputs are (Painters' similarity matrix).
import type { Mat } from '../../engine/api';
import type { SublayerStats } from '../../../protocol/skip';
import { cosine, distance, norm, row, subtract } from './math';

/** What one block of the unmodified pass read and wrote, each [T, d]. */
export interface BlockTrace {
  residPre: Mat;
  residPost: Mat;
  /** Present when the block's attention and MLP are separable. */
  residMid?: Mat;
  attnOut?: Mat;
  mlpOut?: Mat;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

type Series = 'attnRelNorm' | 'attnCos' | 'mlpRelNorm' | 'mlpCos' | 'deltaL2' | 'ioCos';
const SERIES: Series[] = ['attnRelNorm', 'attnCos', 'mlpRelNorm', 'mlpCos', 'deltaL2', 'ioCos'];

/** Accumulates per-block statistics over the texts of a sweep; per-token values are kept for the first text. */
export class SublayerAccumulator {
  private readonly perToken = new Map<Series, number[][]>();
  private readonly sums = new Map<Series, Float64Array>();
  private readonly counts = new Map<Series, Float64Array>();
  private readonly simSum: Float64Array;
  private simCount = 0;
  private readonly separable: boolean[];
  private texts = 0;

  constructor(private readonly numLayers: number) {
    for (const s of SERIES) {
      this.sums.set(s, new Float64Array(numLayers));
      this.counts.set(s, new Float64Array(numLayers));
    }
    this.simSum = new Float64Array(numLayers * numLayers);
    this.separable = new Array(numLayers).fill(false);
  }

  /** Adds one text's unmodified pass (one trace per block, in order). */
  add(traces: BlockTrace[]): void {
    const first = this.texts === 0;
    this.texts++;
    const L = this.numLayers;
    for (let l = 0; l < L; l++) {
      const tr = traces[l];
      const mid = tr.residMid;
      const attn = tr.attnOut ?? (mid ? subtract(mid, tr.residPre) : undefined);
      const mlp = tr.mlpOut ?? (mid ? subtract(tr.residPost, mid) : undefined);
      this.separable[l] = !!(mid && attn && mlp);
      const values: Record<Series, number[]> = { attnRelNorm: [], attnCos: [], mlpRelNorm: [], mlpCos: [], deltaL2: [], ioCos: [] };
      for (let t = 0; t < tr.residPre.rows; t++) {
        const pre = row(tr.residPre, t);
        const post = row(tr.residPost, t);
        if (mid && attn && mlp) {
          const m = row(mid, t);
          const a = row(attn, t);
          const f = row(mlp, t);
          values.attnRelNorm.push(norm(a) / norm(pre));
          values.attnCos.push(cosine(a, pre));
          values.mlpRelNorm.push(norm(f) / norm(m));
          values.mlpCos.push(cosine(f, m));
        } else {
          values.attnRelNorm.push(NaN);
          values.attnCos.push(NaN);
          values.mlpRelNorm.push(NaN);
          values.mlpCos.push(NaN);
        }
        values.deltaL2.push(distance(post, pre));
        values.ioCos.push(cosine(pre, post));
      }
      for (const s of SERIES) {
        if (first) {
          if (!this.perToken.has(s)) this.perToken.set(s, []);
          this.perToken.get(s)![l] = values[s];
        }
        for (const v of values[s]) {
          if (!Number.isFinite(v)) continue;
          this.sums.get(s)![l] += v;
          this.counts.get(s)![l] += 1;
        }
      }
    }
    const T = traces[0]?.residPost.rows ?? 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < L; i++) {
        for (let j = i; j < L; j++) {
          const c = cosine(row(traces[i].residPost, t), row(traces[j].residPost, t));
          this.simSum[i * L + j] += c;
          if (i !== j) this.simSum[j * L + i] += c;
        }
      }
    }
    this.simCount += T;
  }

  result(): SublayerStats {
    const L = this.numLayers;
    const meanOf = (s: Series) => Array.from({ length: L }, (_, l) => (this.counts.get(s)![l] > 0 ? this.sums.get(s)![l] / this.counts.get(s)![l] : null));
    const per = (s: Series) => (this.perToken.get(s) ?? []).map((r) => r.map(finiteOrNull));
    return {
      separable: [...this.separable],
      attnRelNorm: per('attnRelNorm'),
      attnCos: per('attnCos'),
      mlpRelNorm: per('mlpRelNorm'),
      mlpCos: per('mlpCos'),
      deltaL2: per('deltaL2'),
      ioCos: per('ioCos'),
      means: {
        attnRelNorm: meanOf('attnRelNorm'),
        attnCos: meanOf('attnCos'),
        mlpRelNorm: meanOf('mlpRelNorm'),
        mlpCos: meanOf('mlpCos'),
        deltaL2: meanOf('deltaL2'),
        ioCos: meanOf('ioCos'),
      },
      similarity: Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => (this.simCount > 0 ? this.simSum[i * L + j] / this.simCount : 0))),
    };
  }
}
