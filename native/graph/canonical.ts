// Canonicalisation: unfuse ORT fused norms so that in every graph form the residual stream is a chain
// of plain Adds. SkipLayerNormalization / SkipSimplifiedLayerNormalization become
// Add(residual, branch [+ bias]) -> (Simplified)LayerNormalization; EmbedLayerNormalization becomes its
// Gathers + Add (the embedding sum = residual r0) -> LayerNormalization.
import { onnx, type ModelProto, type NodeProto, type TensorProto } from '../onnx/model';
import { int64Tensor } from '../onnx/tensor';
import { GraphIndex } from './graph';

const MS = 'com.microsoft';

function attr(n: NodeProto, name: string): onnxAttr | undefined {
  return n.attribute?.find((a) => a.name === name) ?? undefined;
}
type onnxAttr = NonNullable<NodeProto['attribute']>[number];

function floatAttr(name: string, v: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
}
function intAttr(name: string, v: number) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
}
function intsAttr(name: string, v: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
}

function node(opType: string, name: string, inputs: string[], outputs: string[], attribute: onnxAttr[] = [], domain = ''): NodeProto {
  return onnx.NodeProto.create({ opType, name, input: inputs, output: outputs, attribute, domain });
}

/** Default-domain opset version of a model. */
export function defaultOpset(model: ModelProto): number {
  const o = model.opsetImport?.find((x) => !x.domain || x.domain === 'ai.onnx');
  return Number(o?.version ?? 14);
}

/**
 * A copy of the model (sharing weight buffers) with fused Skip/Embed layer norms expanded.
 * Returns the same model object when nothing had to change.
 */
export function canonicalize(model: ModelProto): ModelProto {
  const g = model.graph!;
  const fused = (n: NodeProto) =>
    (n.domain === MS || !n.domain) &&
    (n.opType === 'SkipLayerNormalization' || n.opType === 'SkipSimplifiedLayerNormalization' || n.opType === 'EmbedLayerNormalization');
  if (!(g.node ?? []).some(fused)) return model;

  const index = new GraphIndex(g);
  const opset = defaultOpset(model);
  const extraInits: TensorProto[] = [];
  const constant = (key: string, dims: number[], values: number[]) => {
    const name = `layerlens/canon/${key}`;
    if (!extraInits.some((t) => t.name === name)) extraInits.push(int64Tensor(name, dims, values));
    return name;
  };
  const nodes: NodeProto[] = [];
  for (const n of g.node ?? []) {
    if (!fused(n)) {
      nodes.push(n);
      continue;
    }
    const base = n.name || n.output![0];
    const out = (i: number, suffix: string) => (n.output![i] ? n.output![i] : `${base}/layerlens_${suffix}`);
    const eps = attr(n, 'epsilon')?.f ?? 1e-12;
    if (n.opType === 'EmbedLayerNormalization') {
      const [ids, seg, word, pos, segEmb, gamma, beta, mask, posIds] = [...n.input!, '', '', '', '', '', '', '', '', ''];
      const terms: string[] = [];
      nodes.push(node('Gather', `${base}/word`, [word, ids], [`${base}/word_out`], [intAttr('axis', 0)]));
      terms.push(`${base}/word_out`);
      if (pos) {
        let positions = posIds;
        if (!positions) {
          nodes.push(node('Shape', `${base}/shape`, [ids], [`${base}/shape_out`]));
          nodes.push(node('Gather', `${base}/seqlen`, [`${base}/shape_out`, constant('one_scalar', [], [1])], [`${base}/seqlen_out`], [intAttr('axis', 0)]));
          nodes.push(node('Range', `${base}/range`, [constant('zero_scalar', [], [0]), `${base}/seqlen_out`, constant('one_scalar', [], [1])], [`${base}/range_out`]));
          positions = `${base}/range_out`;
        }
        nodes.push(node('Gather', `${base}/pos`, [pos, positions], [`${base}/pos_out`], [intAttr('axis', 0)]));
        terms.push(`${base}/pos_out`);
      }
      if (seg && segEmb) {
        nodes.push(node('Gather', `${base}/seg`, [segEmb, seg], [`${base}/seg_out`], [intAttr('axis', 0)]));
        terms.push(`${base}/seg_out`);
      }
      const sum = out(2, 'embedding_sum');
      let acc = terms[0];
      for (let i = 1; i < terms.length; i++) {
        const o = i === terms.length - 1 ? sum : `${base}/sum${i}`;
        nodes.push(node('Add', `${base}/add${i}`, [acc, terms[i]], [o]));
        acc = o;
      }
      if (terms.length === 1) nodes.push(node('Identity', `${base}/sum`, [acc], [sum]));
      nodes.push(node('LayerNormalization', `${base}/norm`, [sum, gamma, beta].filter(Boolean), [out(0, 'normed')], [floatAttr('epsilon', eps), intAttr('axis', -1)]));
      if (n.output![1] && mask) {
        nodes.push(node('Cast', `${base}/mask_cast`, [mask], [`${base}/mask_i32`], [intAttr('to', onnx.TensorProto.DataType.INT32)]));
        const reduce = opset >= 13
          ? node('ReduceSum', `${base}/mask_index`, [`${base}/mask_i32`, constant('axes_1', [1], [1])], [n.output![1]], [intAttr('keepdims', 0)])
          : node('ReduceSum', `${base}/mask_index`, [`${base}/mask_i32`], [n.output![1]], [intsAttr('axes', [1]), intAttr('keepdims', 0)]);
        nodes.push(reduce);
      }
      continue;
    }
    const simplified = n.opType === 'SkipSimplifiedLayerNormalization';
    const [input, skip, gamma] = n.input!;
    const beta = simplified ? '' : (n.input![3] ?? '');
    const bias = (simplified ? n.input![3] : n.input![4]) ?? '';
    // The residual is the operand whose producing node the other one depends on (node level: in fused
    // graphs the residual may come out of a fused node whose other output feeds the branch).
    // The bias belongs to the branch.
    const producerOfSkip = index.producer.get(skip);
    const skipIsResidual = producerOfSkip !== undefined && index.ancestorsOf(input).has(producerOfSkip);
    const [resid, branch] = skipIsResidual ? [skip, input] : [input, skip];
    let branchTotal = branch;
    if (bias) {
      branchTotal = `${base}/branch_plus_bias`;
      nodes.push(node('Add', `${base}/bias_add`, [branch, bias], [branchTotal]));
    }
    const sum = out(3, 'residual');
    nodes.push(node('Add', `${base}/residual_add`, [resid, branchTotal], [sum]));
    const normOutputs = [out(0, 'normed'), n.output![1] ?? '', n.output![2] ?? ''];
    while (normOutputs.length > 1 && !normOutputs[normOutputs.length - 1]) normOutputs.pop();
    nodes.push(
      node(simplified ? 'SimplifiedLayerNormalization' : 'LayerNormalization', `${base}/norm`, [sum, gamma, beta].filter(Boolean), normOutputs, [
        floatAttr('epsilon', eps),
        intAttr('axis', -1),
      ]),
    );
  }
  const graph = onnx.GraphProto.create({ ...g, node: nodes, initializer: [...(g.initializer ?? []), ...extraInits] });
  return onnx.ModelProto.create({ ...model, graph });
}
