// The shipped demo model's ONNX graph: Optimum-style names, logits equal to the PyTorch model it was
// exported from (demo/data/reference.json, written by tools/demo-model/export.py), and KV-cache decoding
// equal to full prefill.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { CONFIG, DEMO_DATA, DEMO_MODEL, ONNX_FILE, argmax, demoSession, greedy, readJson, step } from './helpers';

const { onnx } = onnxProto;

interface Reference {
  cases: Array<{ prompt: string; ids: number[]; last_logits: number[]; greedy_ids: number[] }>;
}
const REFERENCE = readJson<Reference>(path.join(DEMO_DATA, 'reference.json'));
const L = CONFIG.num_hidden_layers;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('demo model ONNX graph', () => {
  it('has the Hugging Face config and the Optimum KV-cache inputs and outputs', async () => {
    const config = readJson<Record<string, unknown>>(path.join(DEMO_MODEL, 'config.json'));
    assert.deepEqual(config.architectures, ['LlamaForCausalLM']);
    assert.equal(config.model_type, 'llama');
    const s = await demoSession();
    const past = Array.from({ length: L }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    const present = Array.from({ length: L }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    assert.deepEqual(s.inputNames, ['input_ids', 'attention_mask', 'position_ids', ...past]);
    assert.deepEqual(s.outputNames, ['logits', ...present]);
  });

  it('is fp32, opset 14, weights inline, with PyTorch-style node names for every block', () => {
    const bytes = fs.readFileSync(ONNX_FILE);
    assert.ok(bytes.length < 5e6, `model.onnx is ${bytes.length} bytes`);
    const model = onnx.ModelProto.decode(bytes);
    assert.deepEqual(
      model.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]),
      [['', 14]],
    );
    const inits = model.graph!.initializer!;
    assert.ok(inits.every((t) => t.dataType === onnx.TensorProto.DataType.FLOAT || t.dataType === onnx.TensorProto.DataType.INT64));
    assert.ok(inits.every((t) => !t.externalData?.length), 'no external data');
    const names = new Set(model.graph!.node!.map((n) => n.name));
    for (let i = 0; i < L; i++) {
      for (const n of ['self_attn/q_proj/MatMul', 'self_attn/k_proj/MatMul', 'self_attn/v_proj/MatMul', 'self_attn/o_proj/MatMul', 'mlp/gate_proj/MatMul', 'mlp/up_proj/MatMul', 'mlp/down_proj/MatMul', 'Add', 'Add_1']) {
        assert.ok(names.has(`/model/layers.${i}/${n}`), `/model/layers.${i}/${n}`);
      }
    }
    assert.ok(names.has('/model/embed_tokens/Gather') && names.has('/lm_head/MatMul'));
  });

  it('gives the logits of the PyTorch model it was exported from (1e-4)', async () => {
    const s = await demoSession();
    const V = CONFIG.vocab_size;
    for (const c of REFERENCE.cases) {
      const { logits } = await step(s, c.ids);
      const last = logits.subarray(logits.length - V);
      assert.ok(maxAbsDiff(last, c.last_logits) < 1e-4, `max |diff| ${maxAbsDiff(last, c.last_logits)} for ${c.prompt.slice(0, 40)}`);
    }
  });

  it('decodes with the KV cache exactly like a full prefill, and greedily like PyTorch', async () => {
    const s = await demoSession();
    const V = CONFIG.vocab_size;
    for (const c of REFERENCE.cases) {
      const cached = await greedy(s, c.ids, c.greedy_ids.length);
      assert.deepEqual(cached, c.greedy_ids.slice(0, cached.length), c.prompt.slice(0, 40));
      // cache path: prefill then 3 single-token steps, against one prefill of the whole sequence
      const seq = [...c.ids, ...c.greedy_ids.slice(0, 3)];
      let { logits, past } = await step(s, c.ids);
      const stepped: Float32Array[] = [];
      for (const id of c.greedy_ids.slice(0, 3)) {
        ({ logits, past } = await step(s, [id], past));
        stepped.push(logits);
      }
      const full = (await step(s, seq)).logits;
      stepped.forEach((row, k) => {
        const at = (c.ids.length + k) * V;
        const diff = maxAbsDiff(row, full.subarray(at, at + V));
        assert.ok(diff < 1e-4, `cached step ${k}: max |diff| ${diff}`);
        assert.equal(argmax(row), argmax(full.subarray(at, at + V)));
      });
      assert.equal(past['past_key_values.0.key'].dims[2], seq.length);
    }
  });
});
