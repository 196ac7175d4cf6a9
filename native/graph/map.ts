// Residual-stream mapping: find, by following the dataflow, the embedding output, the residual tensor
// between and inside blocks, each block's attention/MLP branch, the final norm and the LM head.
import type { BlockMap, GraphForm, LayerMap, TapInfo, TapName } from '../../protocol';
import { ModelError } from '../onnx/errors';
import type { ModelProto, NodeProto, TensorProto } from '../onnx/model';
import { DT } from '../onnx/tensor';
import { canonicalize } from './canonical';
import { ATTENTION_OPS, GraphIndex } from './graph';

/** One residual Add: r[k+1] = r[k] + branch. */
export interface ResidualBranch {
  kind: 'attn' | 'mlp' | 'block';
  /** Residual tensor before / after. */
  input: string;
  output: string;
  /** The branch tensor added to the residual (attn_out / mlp_out). */
  operand: string;
}

export interface NormInfo {
  kind: 'rms' | 'layer';
  weight?: string;
  bias?: string;
  eps: number;
}

/** Everything the partitioner and engine need beyond the public LayerMap. */
export interface GraphMapping {
  layerMap: LayerMap;
  /** The canonicalised model (shares weight buffers with the input model). */
  canonical: ModelProto;
  /** Residual chain: residuals[0] = embedding, residuals[k+1] = output of branches[k]. */
  residuals: string[];
  branches: ResidualBranch[];
  /** For each block, indices into `branches` (attention then MLP, or one combined branch). */
  blockBranches: number[][];
  finalNorm: NormInfo;
  /** LM head weight initializer and whether it is stored [V, d] (true) rather than [d, V]. */
  unembed: { weight: string; vocabMajor: boolean; bias?: string };
  /** MLP down-projection weight per block ([intermediate, d]) when visible. */
  mlpDownWeights: (string | undefined)[];
}

const TAP_KINDS = ['resid_pre', 'attn_out', 'resid_mid', 'mlp_out', 'resid_post'] as const;

function fail(msg: string): never {
  throw new ModelError('UNSUPPORTED_ARCHITECTURE', msg);
}

function detectForm(nodes: NodeProto[]): GraphForm {
  const ops = new Set(nodes.map((n) => n.opType));
  if (ops.has('EmbedLayerNormalization') || ops.has('Attention')) return 'gpt2-fused';
  if (ops.has('GroupQueryAttention')) return 'contrib-gqa';
  if (ops.has('MultiHeadAttention') || ops.has('SkipSimplifiedLayerNormalization') || ops.has('RotaryEmbedding')) return 'genai-builder';
  return 'pytorch';
}

function elemType(model: ModelProto, name: string): number | undefined {
  const g = model.graph!;
  const vi = [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])].find((v) => v.name === name);
  return vi?.type?.tensorType?.elemType ?? undefined;
}

function dimsOf(model: ModelProto, name: string): (number | string)[] | undefined {
  const vi = [...(model.graph!.input ?? []), ...(model.graph!.output ?? [])].find((v) => v.name === name);
  return vi?.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam ?? '?'));
}

/** Map a model's residual stream. Pure graph analysis, no onnxruntime. */
export function mapGraph(model: ModelProto): GraphMapping {
  const form = detectForm(model.graph?.node ?? []);
  const canonical = canonicalize(model);
  const g = canonical.graph!;
  const ix = new GraphIndex(g);
  const inits = new Map<string, TensorProto>((g.initializer ?? []).map((t) => [t.name!, t]));
  const constValue = (name: string): number | undefined => {
    const t = inits.get(name);
    const p = ix.producer.get(name);
    const tensor = t ?? (p !== undefined && ix.nodes[p].opType === 'Constant' ? ix.nodes[p].attribute?.find((a) => a.name === 'value')?.t : undefined);
    if (!tensor) return undefined;
    if (tensor.floatData?.length) return tensor.floatData[0];
    if (tensor.doubleData?.length) return tensor.doubleData[0];
    const raw = tensor.rawData;
    if (!raw || !raw.length) return undefined;
    const b = Buffer.from(raw);
    if (tensor.dataType === DT.FLOAT) return b.readFloatLE(0);
    if (tensor.dataType === DT.DOUBLE) return b.readDoubleLE(0);
    if (tensor.dataType === DT.FLOAT16) return halfBits(b.readUInt16LE(0));
    return undefined;
  };

  // --- inputs / outputs
  const inputNames = [...ix.inputs];
  const idsName = inputNames.find((n) => n === 'input_ids') ?? fail(`no "input_ids" graph input (inputs: ${inputNames.join(', ') || 'none'}); not a decoder language model`);
  const outputs = (g.output ?? []).map((o) => o.name!);
  const logits = outputs.find((o) => o === 'logits') ?? fail(`no "logits" graph output (outputs: ${outputs.join(', ')}); not a causal language model`);

  // --- embedding: a Gather of a 2-D float initializer by (something computed from) input_ids
  const idsDesc = ix.descendantsOf(idsName);
  const embedNode = [...idsDesc]
    .sort((a, b) => a - b)
    .map((i) => ix.nodes[i])
    .find((n) => n.opType === 'Gather' && inits.get(n.input![0])?.dims?.length === 2 && [DT.FLOAT, DT.FLOAT16].includes(inits.get(n.input![0])!.dataType!));
  if (!embedNode) fail('no token embedding (Gather of a [vocab, hidden] weight by input_ids) found');
  const embedWeight = inits.get(embedNode.input![0])!;
  const [vocab, hidden] = embedWeight.dims!.map(Number);
  const dtype = embedWeight.dataType === DT.FLOAT16 ? 'float16' : 'float32';
  let r0 = embedNode.output![0];
  // fold position-embedding sums / embedding scales that do not depend on r0 into the embedding
  for (;;) {
    const cons = ix.consumers.get(r0) ?? [];
    if (cons.length !== 1) break;
    const c = ix.nodes[cons[0]];
    if (c.opType !== 'Add' && c.opType !== 'Mul') break;
    const other = c.input!.find((x) => x !== r0);
    if (!other || ix.dependsOn(other, r0)) break;
    r0 = c.output![0];
  }

  // --- residual chain
  const residuals = [r0];
  const branches: ResidualBranch[] = [];
  for (;;) {
    const r = residuals[residuals.length - 1];
    const desc = ix.descendantsOf(r);
    let best: { add: NodeProto; operand: string; size: number } | undefined;
    for (const ci of ix.consumers.get(r) ?? []) {
      const c = ix.nodes[ci];
      if (c.opType !== 'Add' || c.input!.length !== 2) continue;
      const operand = c.input![0] === r ? c.input![1] : c.input![0];
      if (operand === r || !ix.dependsOn(operand, r, desc)) continue;
      const size = [...ix.ancestorsOf(operand)].filter((n) => desc.has(n)).length;
      if (!best || size > best.size) best = { add: c, operand, size };
    }
    if (!best) break;
    const branchNodes = [...ix.ancestorsOf(best.operand)].filter((n) => desc.has(n));
    const isAttn = branchNodes.some((n) => ATTENTION_OPS.has(ix.nodes[n].opType!));
    branches.push({ kind: isAttn ? 'attn' : 'mlp', input: r, output: best.add.output![0], operand: best.operand });
    residuals.push(best.add.output![0]);
  }
  if (branches.length === 0) fail('no residual stream found: no Add of the embedding with a branch computed from it (encoder-only or non-transformer graph?)');

  // --- blocks: attention followed by MLP; a lone attention branch is a non-separable block
  const blockBranches: number[][] = [];
  for (let k = 0; k < branches.length; ) {
    if (branches[k].kind !== 'attn') fail(`residual branch ${k} (${branches[k].operand}) has no attention before it; cannot group it into a transformer block`);
    if (branches[k + 1]?.kind === 'mlp') {
      blockBranches.push([k, k + 1]);
      k += 2;
    } else {
      branches[k].kind = 'block';
      blockBranches.push([k]);
      k += 1;
    }
  }

  // --- head: final norm + LM head
  const rLast = residuals[residuals.length - 1];
  const lastDesc = ix.descendantsOf(rLast);
  const headNodes = [...ix.ancestorsOf(logits)].filter((n) => lastDesc.has(n)).sort((a, b) => a - b);
  if (!lastDesc.has(ix.producer.get(logits) ?? -1)) fail(`logits do not depend on the last residual tensor ${rLast}`);
  if (headNodes.some((n) => ATTENTION_OPS.has(ix.nodes[n].opType!))) {
    fail('attention after the last residual Add: the residual stream could not be followed through every block (parallel attention/MLP blocks are not supported)');
  }
  const weightOf = (name: string): { init: string; transposed: boolean } | undefined => {
    if (inits.has(name)) return { init: name, transposed: false };
    const p = ix.producer.get(name);
    if (p !== undefined && ix.nodes[p].opType === 'Transpose' && inits.has(ix.nodes[p].input![0])) return { init: ix.nodes[p].input![0], transposed: true };
    return undefined;
  };
  // the LM head is the last MatMul/Gemm with a weight before the logits
  let lm: { node: NodeProto; act: string; weight: string; vocabMajor: boolean } | undefined;
  for (const n of headNodes.map((i) => ix.nodes[i])) {
    if (n.opType !== 'MatMul' && n.opType !== 'Gemm') continue;
    const w = weightOf(n.input![1]);
    if (!w) continue;
    const transB = n.opType === 'Gemm' && n.attribute?.some((a) => a.name === 'transB' && Number(a.i) === 1);
    // stored [d, V] for x @ W; [V, d] when transposed (Transpose node or Gemm transB)
    lm = { node: n, act: n.input![0], weight: w.init, vocabMajor: w.transposed !== Boolean(transB) };
  }
  if (!lm) fail('no LM head (MatMul with a weight) between the last residual tensor and the logits');
  const unembedDims = inits.get(lm.weight)!.dims!.map(Number);
  const vocabSize = lm.vocabMajor ? unembedDims[0] : unembedDims[1];
  const lmBiasNode = (ix.consumers.get(lm.node.output![0]) ?? []).map((i) => ix.nodes[i]).find((n) => n.opType === 'Add' && n.input!.some((x) => inits.has(x)));
  const finalNormOutput = lm.act;
  const normNodes = [...ix.ancestorsOf(finalNormOutput)].filter((n) => lastDesc.has(n)).map((i) => ix.nodes[i]);
  const finalNorm = normInfo(normNodes, inits, hidden, constValue);

  // --- MLP down projection per block (the MatMul producing the MLP branch, possibly under a bias Add)
  const downWeight = (operand: string): string | undefined => {
    let p = ix.producer.get(operand);
    if (p !== undefined && ix.nodes[p].opType === 'Add') {
      const mm = ix.nodes[p].input!.map((x) => ix.producer.get(x)).find((q) => q !== undefined && ix.nodes[q].opType === 'MatMul');
      p = mm;
    }
    if (p === undefined || ix.nodes[p].opType !== 'MatMul') return undefined;
    const w = ix.nodes[p].input![1];
    const t = inits.get(w);
    return t?.dims?.length === 2 && Number(t.dims[1]) === hidden ? w : undefined;
  };

  const blocks: BlockMap[] = blockBranches.map((bs, index) => {
    const first = branches[bs[0]];
    const last = branches[bs[bs.length - 1]];
    const separable = bs.length === 2;
    return {
      index,
      residIn: first.input,
      residMid: separable ? first.output : undefined,
      residOut: last.output,
      attnOut: separable ? first.operand : undefined,
      mlpOut: separable ? last.operand : undefined,
      sublayersSeparable: separable,
    };
  });
  const mlpDownWeights = blockBranches.map((bs) => (bs.length === 2 ? downWeight(branches[bs[1]].operand) : undefined));

  const taps: TapInfo[] = [{ name: 'embed', available: true }];
  for (const b of blocks) {
    for (const kind of TAP_KINDS) {
      const name = `blocks.${b.index}.${kind}` as TapName;
      const inner = kind === 'attn_out' || kind === 'resid_mid' || kind === 'mlp_out';
      taps.push(inner && !b.sublayersSeparable ? { name, available: false, reason: 'attention and MLP are not separate residual branches in this block' } : { name, available: true });
    }
  }
  taps.push({ name: 'final_norm', available: true }, { name: 'logits', available: true });

  // --- sizes from the KV-cache inputs and attention attributes
  const pastInputs = inputNames.filter((n) => /^past/.test(n));
  const pastDims = pastInputs.length ? dimsOf(canonical, pastInputs[0]) : undefined;
  const attnNode = g.node!.find((n) => ['Attention', 'MultiHeadAttention', 'GroupQueryAttention'].includes(n.opType!));
  const intAttr = (n: NodeProto | undefined, a: string) => {
    const v = n?.attribute?.find((x) => x.name === a)?.i;
    return v != null ? Number(v) : undefined;
  };
  const numHeadsAttr = intAttr(attnNode, 'num_heads');
  const headDim = pastDims && typeof pastDims[pastDims.length - 1] === 'number' ? (pastDims[pastDims.length - 1] as number) : numHeadsAttr ? hidden / numHeadsAttr : undefined;
  const numKvHeads = intAttr(attnNode, 'kv_num_heads') ?? (pastDims && pastDims.length === 4 && typeof pastDims[1] === 'number' ? (pastDims[1] as number) : undefined) ?? numHeadsAttr;
  const numHeads = numHeadsAttr ?? (headDim ? hidden / headDim : undefined);

  const layerMap: LayerMap = {
    graphForm: form,
    numLayers: blocks.length,
    hiddenSize: hidden,
    vocabSize: vocabSize || vocab,
    numHeads,
    numKvHeads,
    headDim,
    dtype,
    inputIdsType: elemType(canonical, idsName) === DT.INT32 ? 'int32' : 'int64',
    hasKvCache: pastInputs.length > 0,
    hasPositionIds: ix.inputs.has('position_ids'),
    embedOutput: r0,
    finalNormOutput,
    logitsOutput: logits,
    blocks,
    taps,
  };
  return {
    layerMap,
    canonical,
    residuals,
    branches,
    blockBranches,
    finalNorm,
    unembed: { weight: lm.weight, vocabMajor: lm.vocabMajor, bias: lmBiasNode?.input!.find((x) => inits.has(x)) },
    mlpDownWeights,
  };
}

function halfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Describe the final norm from its nodes: fused (Simplified)LayerNormalization or a decomposed RMS/LayerNorm. */
function normInfo(nodes: NodeProto[], inits: Map<string, TensorProto>, hidden: number, constValue: (n: string) => number | undefined): NormInfo {
  const vec = (x: string) => inits.get(x)?.dims?.length === 1 && Number(inits.get(x)!.dims![0]) === hidden;
  const fused = nodes.find((n) => n.opType === 'LayerNormalization' || n.opType === 'SimplifiedLayerNormalization' || n.opType === 'RMSNormalization');
  if (fused) {
    const eps = fused.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
    return { kind: fused.opType === 'LayerNormalization' ? 'layer' : 'rms', weight: fused.input![1], bias: fused.input![2] || undefined, eps };
  }
  const hasMean = nodes.some((n) => n.opType === 'Sub');
  const weight = nodes.find((n) => n.opType === 'Mul' && n.input!.some(vec))?.input!.find(vec);
  const bias = nodes.find((n) => n.opType === 'Add' && n.input!.some(vec))?.input!.find(vec);
  let eps = 1e-5;
  for (const n of nodes) {
    if (n.opType !== 'Add') continue;
    for (const x of n.input!) {
      const v = constValue(x);
      if (v !== undefined && v > 0 && v < 1e-2) eps = v;
    }
  }
  return { kind: hasMean ? 'layer' : 'rms', weight, bias, eps };
}
