// Element-type propagation: the ONNX element type of every tensor in a graph, so that tensors cut
// at stage boundaries can be declared as stage inputs/outputs.
import { ModelError } from '../onnx/errors';
import type { GraphProto } from '../onnx/model';
import { DT } from '../onnx/tensor';

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Not', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);

/** Element type of every named tensor (graph inputs, initializers, node outputs). */
export function inferElemTypes(g: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (t) types.set(v.name!, t);
  }
  for (const t of g.initializer ?? []) types.set(t.name!, t.dataType!);
  for (const n of g.node ?? []) {
    const attr = (name: string) => n.attribute?.find((a) => a.name === name);
    const inType = (i: number) => types.get(n.input?.[i] ?? '');
    n.output?.forEach((o, i) => {
      if (!o || types.has(o)) return;
      let t: number | undefined;
      const op = n.opType!;
      if (op === 'Cast') t = Number(attr('to')?.i);
      else if (op === 'Constant') t = attr('value')?.t?.dataType ?? (attr('value_int') || attr('value_ints') ? DT.INT64 : DT.FLOAT);
      else if (op === 'ConstantOfShape') t = attr('value')?.t?.dataType ?? DT.FLOAT;
      else if (BOOL_OPS.has(op)) t = DT.BOOL;
      else if (INT64_OPS.has(op)) t = DT.INT64;
      else if (op === 'Where') t = inType(1) ?? inType(2);
      else if ((op === 'LayerNormalization' || op === 'SimplifiedLayerNormalization') && i > 0) t = DT.FLOAT;
      else if (op === 'GroupQueryAttention' || op === 'MultiHeadAttention' || op === 'Attention') t = inType(0);
      else t = inType(0) ?? n.input?.map((x) => types.get(x)).find((x) => x !== undefined);
      if (t === undefined) throw new ModelError('UNSUPPORTED_ARCHITECTURE', `cannot infer the element type of ${o} (${op})`);
      types.set(o, t);
    });
  }
  return types;
}
