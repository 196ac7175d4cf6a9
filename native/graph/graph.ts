// Dataflow index over an ONNX graph: producers, consumers, reachability.
import type { GraphProto, NodeProto } from '../onnx/model';

/** Producer/consumer index of a graph, nodes referred to by their index in `graph.node`. */
export class GraphIndex {
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly initializers = new Set<string>();
  readonly inputs = new Set<string>();

  constructor(readonly graph: GraphProto) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) this.initializers.add(t.name!);
    for (const i of graph.input ?? []) if (!this.initializers.has(i.name!)) this.inputs.add(i.name!);
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
      for (const x of n.input ?? []) {
        if (!x) continue;
        const c = this.consumers.get(x);
        if (c) c.push(i);
        else this.consumers.set(x, [i]);
      }
    });
  }

  /** Nodes reachable forward from a tensor (its consumers, their consumers, ...). */
  descendantsOf(tensor: string): Set<number> {
    const seen = new Set<number>();
    const stack = [...(this.consumers.get(tensor) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const o of this.nodes[n].output ?? []) if (o) stack.push(...(this.consumers.get(o) ?? []));
    }
    return seen;
  }

  /** Nodes a tensor depends on (its producer, that producer's producers, ...). */
  ancestorsOf(tensor: string): Set<number> {
    const seen = new Set<number>();
    const p0 = this.producer.get(tensor);
    const stack = p0 === undefined ? [] : [p0];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const x of this.nodes[n].input ?? []) {
        const p = x ? this.producer.get(x) : undefined;
        if (p !== undefined) stack.push(p);
      }
    }
    return seen;
  }

  /** True when tensor `b` depends on tensor `a`. */
  dependsOn(b: string, a: string, descendantsOfA?: Set<number>): boolean {
    const p = this.producer.get(b);
    if (p === undefined) return false;
    return (descendantsOfA ?? this.descendantsOf(a)).has(p);
  }
}

/** Operator types that identify an attention sublayer. */
export const ATTENTION_OPS = new Set([
  'Softmax', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention',
  'PackedMultiHeadAttention', 'DecoderMaskedMultiHeadAttention', 'DecoderMaskedSelfAttention', 'SparseAttention',
]);
