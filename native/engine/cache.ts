// Per-slot key/value cache: each plan slot (a repeated block has two slots) keeps its own past tensors.
import type * as ort from 'onnxruntime-node';
import type { KvCache } from './api';
import { sliceAxis } from './tensors';

/** KV cache of one plan: slot index -> past input name -> tensor; plus the token history. */
export class SlotKvCache implements KvCache {
  /** Token ids already processed (used to recompute for graphs without past inputs). */
  history: number[] = [];
  readonly slots: Map<string, ort.Tensor>[];

  constructor(
    readonly numSlots: number,
    /** Sequence axis of each past input (by name). */
    private readonly seqAxis: (pastName: string) => number,
  ) {
    this.slots = Array.from({ length: numSlots }, () => new Map());
  }

  get length(): number {
    return this.history.length;
  }

  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`truncate: bad length ${length}`);
    if (length >= this.history.length) return;
    this.history = this.history.slice(0, length);
    for (const slot of this.slots) {
      for (const [name, t] of slot) {
        const axis = this.seqAxis(name);
        slot.set(name, sliceAxis(t, axis, 0, Math.min(length, t.dims[axis])));
      }
    }
  }

  clone(): SlotKvCache {
    const c = new SlotKvCache(this.numSlots, this.seqAxis);
    c.history = [...this.history];
    // stored tensors are never written in place, so sharing them is safe
    this.slots.forEach((s, i) => s.forEach((t, k) => c.slots[i].set(k, t)));
    return c;
  }
}
