// Partition a mapped graph into stages, each its own ONNX model:
//   prelude  embedding + every side computation that does not depend on the residual stream
//            (attention mask, rotary tables, seqlens, ...): its outputs feed the other stages;
//   sublayer one per residual branch (attention, MLP, or a whole non-separable block): r_k -> r_{k+1};
//   block    attention + MLP of a separable block in one stage (r_pre -> r_post, with resid_mid and both
//            branch outputs as extra outputs): what the engine loads by default, since every stage
//            session run costs thread-pool wake-ups; the two sublayer stages of that block are
//            loaded only when a plan needs the boundary between them;
//   head     final norm + LM head: r_last -> final_norm, logits.
// Each initializer goes only to the stage(s) whose nodes use it.
import { ModelError } from '../onnx/errors';
import { onnx, type ModelProto, type NodeProto, type TensorProto } from '../onnx/model';
import { tensorBytes } from '../onnx/tensor';
import { GraphIndex } from './graph';
import type { GraphMapping } from './map';
import { inferElemTypes } from './types';

export type StageKind = 'prelude' | 'attn' | 'mlp' | 'block' | 'head';

/** The sublayer outputs of a joined (attention + MLP) block stage. */
export interface JoinedOutputs {
  attnOut: string;
  residMid: string;
  mlpOut: string;
}

export interface StageSpec {
  /** 'prelude', 'blocks.L.attn', 'blocks.L.mlp', 'blocks.L' (non-separable or joined block) or 'head'. */
  name: string;
  kind: StageKind;
  /** Block index for sublayer stages. */
  layer?: number;
  model: ModelProto;
  /** Input names in order; for sublayer and head stages the first is the residual. */
  inputs: string[];
  outputs: string[];
  residualIn?: string;
  residualOut?: string;
  /** The branch output (attn_out / mlp_out) for sublayer stages. */
  branchOut?: string;
  /** Joined blocks only: attention output, resid_mid and MLP output (the stage also has residualOut). */
  joined?: JoinedOutputs;
  /** KV-cache graph inputs this stage reads and the present outputs it writes, paired by index. */
  pastInputs: string[];
  presentOutputs: string[];
}

export interface Partition {
  prelude: StageSpec;
  /** One per residual branch, in residual order. */
  sublayers: StageSpec[];
  /** Per block: attention + MLP joined in one stage, where the block has both as separate branches. */
  joined: (StageSpec | undefined)[];
  head: StageSpec;
  /**
   * Initializers placed in more than one of the default stages (prelude, joined blocks or else the
   * sublayers, head), e.g. rotary tables, with their size.
   */
  sharedInitializers: { name: string; bytes: number; stages: string[] }[];
}

const pastToPresent = (past: string) => past.replace(/^past_key_values/, 'present').replace(/^past/, 'present');

/** Split the canonical graph of a mapping into stage models. */
export function partition(mapping: GraphMapping): Partition {
  const canonical = mapping.canonical;
  const g = canonical.graph!;
  const ix = new GraphIndex(g);
  const types = inferElemTypes(g);
  const inits = new Map<string, TensorProto>((g.initializer ?? []).map((t) => [t.name!, t]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const { residuals, branches, layerMap } = mapping;
  const declared = new Map([...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])].filter((v) => v.type?.tensorType?.shape).map((v) => [v.name!, v]));
  const residualSet = new Set([...residuals, layerMap.finalNormOutput, ...branches.map((b) => b.operand)]);

  const between = (from: string, to: string) => {
    const desc = ix.descendantsOf(from);
    return new Set([...ix.ancestorsOf(to)].filter((n) => desc.has(n)));
  };
  const sublayerSets = branches.map((b) => between(b.input, b.output));
  // present outputs computed from a sublayer's residual input (e.g. a Concat of past and new keys) belong to it
  branches.forEach((b, k) => {
    const desc = ix.descendantsOf(b.input);
    for (const o of graphOutputs) {
      const p = ix.producer.get(o);
      if (o !== layerMap.logitsOutput && p !== undefined && desc.has(p) && !sublayerSets.some((s) => s.has(p))) {
        for (const n of ix.ancestorsOf(o)) if (desc.has(n)) sublayerSets[k].add(n);
      }
    }
  });
  const rLast = residuals[residuals.length - 1];
  const headSet = between(rLast, layerMap.logitsOutput);
  const owner = new Map<number, number>();
  sublayerSets.forEach((s, k) => s.forEach((n) => owner.set(n, k)));
  headSet.forEach((n) => owner.set(n, -1));

  // Nodes with no graph-input ancestry (Constant, constant subgraphs) are copied into whichever stage needs them.
  const constantNode = new Map<number, boolean>();
  const isConstant = (n: number): boolean => {
    if (constantNode.has(n)) return constantNode.get(n)!;
    constantNode.set(n, false);
    const v = (ix.nodes[n].input ?? []).every((x) => !x || inits.has(x) || (ix.producer.has(x) && isConstant(ix.producer.get(x)!)));
    constantNode.set(n, v);
    return v;
  };

  const preludeNeeds = new Set<string>([residuals[0]]);

  const buildStage = (name: string, kind: StageKind, nodeSet: Set<number>, firstInputs: string[], wantedOutputs: string[], layer?: number): StageSpec => {
    const nodes = new Set(nodeSet);
    // pull in constant producers
    const pull = (x: string) => {
      const p = ix.producer.get(x);
      if (p !== undefined && !nodes.has(p) && isConstant(p)) {
        nodes.add(p);
        for (const y of ix.nodes[p].input ?? []) if (y) pull(y);
      }
    };
    for (const n of [...nodes]) for (const x of ix.nodes[n].input ?? []) if (x) pull(x);
    const sorted = [...nodes].sort((a, b) => a - b);
    const produced = new Set(sorted.flatMap((n) => ix.nodes[n].output ?? []));
    const inputs = [...firstInputs];
    const initNames: string[] = [];
    for (const n of sorted) {
      for (const x of ix.nodes[n].input ?? []) {
        if (!x || produced.has(x) || inputs.includes(x) || initNames.includes(x)) continue;
        if (inits.has(x)) {
          initNames.push(x);
          continue;
        }
        const p = ix.producer.get(x);
        if (p !== undefined && owner.has(p)) {
          throw new ModelError('UNSUPPORTED_ARCHITECTURE', `stage ${name} needs ${x}, computed inside another stage; the graph cannot be split into layers`);
        }
        if (kind !== 'prelude' && p !== undefined) preludeNeeds.add(x);
        inputs.push(x);
      }
    }
    const outputs = [...wantedOutputs];
    for (const n of sorted) for (const o of ix.nodes[n].output ?? []) if (o && graphOutputs.has(o) && o !== layerMap.logitsOutput && !outputs.includes(o)) outputs.push(o);
    const valueInfo = (x: string) => {
      // keep shapes where known: they let onnxruntime fold shape subgraphs and fuse inside a stage
      const known = declared.get(x);
      if (known) return known;
      const t = types.get(x);
      if (t === undefined) throw new ModelError('UNSUPPORTED_ARCHITECTURE', `unknown element type of ${x}`);
      const shape = residualSet.has(x) ? { dim: [{ dimParam: 'batch_size' }, { dimParam: 'sequence_length' }, { dimValue: layerMap.hiddenSize }] } : undefined;
      return onnx.ValueInfoProto.create({ name: x, type: { tensorType: { elemType: t, shape } } });
    };
    const graph = onnx.GraphProto.create({
      name: `layerlens_${name}`,
      node: sorted.map((n) => ix.nodes[n] as NodeProto),
      initializer: initNames.map((i) => inits.get(i)!),
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    });
    const model = onnx.ModelProto.create({
      irVersion: canonical.irVersion,
      opsetImport: canonical.opsetImport,
      producerName: 'layerlens',
      graph,
    });
    const pastInputs = inputs.filter((x) => ix.inputs.has(x) && /^past/.test(x));
    const presentOutputs = pastInputs.map(pastToPresent);
    if (kind !== 'prelude' && !presentOutputs.every((p) => outputs.includes(p))) {
      throw new ModelError('UNSUPPORTED_ARCHITECTURE', `stage ${name} reads ${pastInputs.join(', ')} but does not produce the matching present outputs`);
    }
    return { name, kind, layer, model, inputs, outputs, pastInputs: kind === 'prelude' ? [] : pastInputs, presentOutputs: kind === 'prelude' ? [] : presentOutputs };
  };

  const sublayers: StageSpec[] = [];
  const joined: (StageSpec | undefined)[] = [];
  mapping.blockBranches.forEach((bs, layer) => {
    for (const k of bs) {
      const b = branches[k];
      const name = b.kind === 'block' ? `blocks.${layer}` : `blocks.${layer}.${b.kind}`;
      const spec = buildStage(name, b.kind, sublayerSets[k], [b.input], [b.output, b.operand], layer);
      spec.residualIn = b.input;
      spec.residualOut = b.output;
      spec.branchOut = b.operand;
      sublayers.push(spec);
    }
    const [a, m] = bs.map((k) => branches[k]);
    if (bs.length === 2 && a.kind === 'attn' && m.kind === 'mlp' && m.input === a.output) {
      const nodes = new Set([...sublayerSets[bs[0]], ...sublayerSets[bs[1]]]);
      const spec = buildStage(`blocks.${layer}`, 'block', nodes, [a.input], [m.output, a.operand, a.output, m.operand], layer);
      spec.residualIn = a.input;
      spec.residualOut = m.output;
      spec.branchOut = m.operand;
      spec.joined = { attnOut: a.operand, residMid: a.output, mlpOut: m.operand };
      joined[layer] = spec;
    }
  });
  const head = buildStage('head', 'head', headSet, [rLast], [layerMap.finalNormOutput, layerMap.logitsOutput]);
  head.residualIn = rLast;

  // prelude: everything needed for r0 and the side tensors, excluding stage nodes
  const preludeSet = new Set<number>();
  for (const x of preludeNeeds) for (const n of [ix.producer.get(x)!, ...ix.ancestorsOf(x)]) if (n !== undefined && !owner.has(n)) preludeSet.add(n);
  const preludeOutputs = [residuals[0], ...[...preludeNeeds].filter((x) => x !== residuals[0])];
  const prelude = buildStage('prelude', 'prelude', preludeSet, [], preludeOutputs);
  prelude.residualOut = residuals[0];

  const sharedUse = new Map<string, Set<string>>();
  const defaults = [prelude, ...mapping.blockBranches.flatMap((_, layer) => joined[layer] ?? sublayers.filter((s) => s.layer === layer)), head];
  for (const spec of defaults) {
    for (const t of spec.model.graph?.initializer ?? []) sharedUse.set(t.name!, (sharedUse.get(t.name!) ?? new Set<string>()).add(spec.name));
  }
  const sharedInitializers = [...sharedUse]
    .filter(([, s]) => s.size > 1)
    .map(([name, s]) => ({ name, bytes: tensorBytes(inits.get(name)!), stages: [...s] }));
  return { prelude, sublayers, joined, head, sharedInitializers };
}
