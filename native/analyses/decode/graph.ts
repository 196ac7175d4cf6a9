// A small ONNX graph builder on top of onnx-proto (the protobufjs ONNX schema), and a helper to open
// an onnxruntime session on the built bytes. The decode pillar builds its lens-head, translator-training
// and neuron-projection graphs with it, so big matmuls and vocab-sized reductions run inside ORT.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../../engine/session';

const { onnx } = onnxProto;

/** Element types used by our graphs (ONNX TensorProto.DataType values). */
export const DType = { float: 1, int64: 7 } as const;
export type DTypeCode = (typeof DType)[keyof typeof DType];

/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

type AttrValue = number | number[] | string;

/** Builds one ONNX model (opset 17, default domain) node by node. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** Declares a graph input and returns its name. */
  input(name: string, dtype: DTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares `name` (an existing value) as a graph output. */
  output(name: string, dtype: DTypeCode, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A float32 initializer. */
  floats(data: Float32Array, dims: number[], name = this.fresh('w')): string {
    this.inits.push({ name, dataType: DType.float, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** An int64 initializer (small constants: axes, shapes). */
  ints(values: number[], dims: number[] = [values.length], name = this.fresh('i')): string {
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.inits.push({ name, dataType: DType.int64, dims, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  /** A scalar float constant. */
  scalar(value: number): string {
    return this.floats(new Float32Array([value]), []);
  }

  /** Adds a node with one output; returns the output name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName = this.fresh(opType)): string {
    this.opN(opType, inputs, [outName], attrs);
    return outName;
  }

  /** Adds a node with several outputs; returns their names. */
  opN(opType: string, inputs: string[], outNames: string[], attrs: Record<string, AttrValue> = {}): string[] {
    this.nodes.push({
      opType,
      input: inputs,
      output: outNames,
      name: this.fresh(`${opType}_node`),
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    });
    return outNames;
  }

  /** Serialised ModelProto bytes. */
  build(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'layerlens',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: graphName, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }
}

function valueInfo(name: string, dtype: DTypeCode, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dtype,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return Number.isInteger(v) && !Object.is(v, -0) && !isFloatAttr(name)
    ? { name, type: T.INT, i: v }
    : { name, type: T.FLOAT, f: v };
}

/** Attributes that are floats in the ops we use even when the value is integral (e.g. epsilon 1). */
function isFloatAttr(name: string): boolean {
  return name === 'epsilon' || name === 'alpha' || name === 'beta';
}

/** Opens an ORT CPU session on built model bytes with the engine's session options (threads, no spinning). */
export function openSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, sessionOptions('cpu'));
}

/** A float32 ORT tensor viewing `data` (no copy). */
export const f32 = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor('float32', data, dims);

/** An int64 ORT tensor from plain numbers. */
export const i64 = (values: ArrayLike<number>, dims: number[]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
