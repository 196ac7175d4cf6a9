// Residual-stream statistics of the unmodified model, block by block: how much each sublayer writes
// into the residual stream (relative norm, cosine with the residual), how far each block moves the
// hidden state, and how alike the block outputs are (Painters' similarity matrix).
import type { Mat } from '../../engine/api';
import type { SublayerStats } from '../../../protocol/skip';
import { norm, row, subtract } from './math';

/** What one block of the unmodified pass read and wrote, each [T, d]. */
export interface BlockTrace {
  residPre: Mat;
  residPost: Mat;
  /** Present when the block's attention and MLP are separable. */
  residMid?: Mat;
  attnOut?: Mat;
  mlpOut?: Mat;
}

/** Cosine from a dot product and two squared norms; 0 when either vector is zero. */
const safeCos = (dot: number, aa: number, bb: number): number => (aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : 0);

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
    const T = traces[0]?.residPost.rows ?? 0;
    const d = traces[0]?.residPost.cols ?? 0;
    for (let l = 0; l < L; l++) {
      const tr = traces[l];
      const mid = tr.residMid;
      const attn = tr.attnOut ?? (mid ? subtract(mid, tr.residPre) : undefined);
      const mlp = tr.mlpOut ?? (mid ? subtract(tr.residPost, mid) : undefined);
      const separable = !!(mid && attn && mlp);
      this.separable[l] = separable;
      const values: Record<Series, number[]> = { attnRelNorm: [], attnCos: [], mlpRelNorm: [], mlpCos: [], deltaL2: [], ioCos: [] };
      const pre = tr.residPre.data;
      const post = tr.residPost.data;
      const m = mid?.data;
      const a = attn?.data;
      const f = mlp?.data;
      for (let t = 0; t < T; t++) {
        // One pass per token: every dot product the statistics need.
        let pp = 0, qq = 0, pq = 0, dd = 0, aa = 0, ap = 0, ff = 0, mm = 0, fm = 0;
        for (let c = t * d; c < (t + 1) * d; c++) {
          const x = pre[c];
          const y = post[c];
          pp += x * x;
          qq += y * y;
          pq += x * y;
          dd += (y - x) * (y - x);
          if (separable) {
            aa += a![c] * a![c];
            ap += a![c] * x;
            ff += f![c] * f![c];
            mm += m![c] * m![c];
            fm += f![c] * m![c];
          }
        }
        values.attnRelNorm.push(separable ? Math.sqrt(aa / pp) : NaN);
        values.attnCos.push(separable ? safeCos(ap, aa, pp) : NaN);
        values.mlpRelNorm.push(separable ? Math.sqrt(ff / mm) : NaN);
        values.mlpCos.push(separable ? safeCos(fm, ff, mm) : NaN);
        values.deltaL2.push(Math.sqrt(dd));
        values.ioCos.push(safeCos(pq, pp, qq));
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
    const norms = traces.map((tr) => Array.from({ length: T }, (_, t) => norm(row(tr.residPost, t))));
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < L; i++) {
        const a = traces[i].residPost.data;
        for (let j = i; j < L; j++) {
          const b = traces[j].residPost.data;
          let dotAB = 0;
          for (let c = t * d; c < (t + 1) * d; c++) dotAB += a[c] * b[c];
          const cos = safeCos(dotAB, norms[i][t] ** 2, norms[j][t] ** 2);
          this.simSum[i * L + j] += cos;
          if (i !== j) this.simSum[j * L + i] += cos;
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
