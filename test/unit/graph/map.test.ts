// Residual-stream mapping and partition on the shared models (names checked in ORT by the manifest
// author) and on generated fixtures of every form; clear errors for bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildFixture, writeFixture } from '../../../native/fixtures/index';
import { GraphBuilder } from '../../../native/fixtures/builder';
import { mapGraph } from '../../../native/graph/map';
import { partition } from '../../../native/graph/partition';
import { mapModel } from '../../../native/engine/index';
import { decodeModel, loadModel } from '../../../native/onnx/model';
import { DT, tensorBytes } from '../../../native/onnx/tensor';
import { GENAI, GQA, STORIES } from '../engine/helpers';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

test('stories260K: residual stream of the PyTorch export', () => {
  const { layerMap: m } = mapModel(loadModel(path.join(STORIES, 'onnx/model.onnx')));
  assert.equal(m.graphForm, 'pytorch');
  assert.deepEqual([m.numLayers, m.hiddenSize, m.vocabSize, m.numHeads, m.numKvHeads, m.headDim], [5, 64, 512, 8, 4, 8]);
  assert.equal(m.blocks[0].residIn, '/model/embed_tokens/Gather_output_0');
  assert.equal(m.blocks[3].residMid, '/model/layers.3/Add_output_0');
  assert.equal(m.blocks[4].residOut, '/model/layers.4/Add_1_output_0');
  assert.ok(m.taps.every((t) => t.available));
  assert.equal(m.taps.length, 2 + 5 * 5 + 1);
  const noPast = mapModel(loadModel(path.join(STORIES, 'onnx/model_no_past.onnx'))).layerMap;
  assert.equal(noPast.hasKvCache, false);
  assert.deepEqual(noPast.blocks, m.blocks);
});

test('genai builder: residuals are output 3 of the skip norms; the last one is recovered by unfusing', () => {
  const m = mapModel(loadModel(path.join(GENAI, 'model.onnx'))).layerMap;
  assert.equal(m.graphForm, 'genai-builder');
  assert.equal(m.dtype, 'float16');
  assert.deepEqual(
    m.blocks.map((b) => [b.residIn, b.residMid, b.residOut]),
    [
      ['/model/embed_tokens/Gather/output_0', '/model/layers.0/post_attention_layernorm/output_3', '/model/layers.1/input_layernorm/output_3'],
      ['/model/layers.1/input_layernorm/output_3', '/model/layers.1/post_attention_layernorm/output_3', '/model/layers.2/final_norm_layernorm/SkipLayerNorm/layerlens_residual'],
    ],
  );
  assert.equal(m.finalNormOutput, '/model/layers.2/final_norm_layernorm/output_0');
});

test('contrib GQA + SkipLayerNorm: int32 ids, no position_ids', () => {
  const m = mapModel(loadModel(path.join(GQA, 'decoder.onnx'))).layerMap;
  assert.equal(m.graphForm, 'contrib-gqa');
  assert.equal(m.inputIdsType, 'int32');
  assert.equal(m.hasPositionIds, false);
  assert.deepEqual(m.blocks.map((b) => [b.residIn, b.residMid, b.attnOut, b.mlpOut]), [
    ['inputs_embeds', 'l0.r1', 'l0.o', 'l0.dn'],
    ['l0.r2', 'l1.r1', 'l1.o', 'l1.dn'],
  ]);
  assert.equal(m.finalNormOutput, 'final_ln');
});

test('GPT-2 fused fixture: embedding sum is r0, bias goes with the branch, tied head', () => {
  const mapping = mapGraph(buildFixture({ form: 'gpt2-fused', layers: 3 }));
  const m = mapping.layerMap;
  assert.equal(m.graphForm, 'gpt2-fused');
  assert.equal(m.numLayers, 3);
  assert.equal(m.embedOutput, 'embedding_sum');
  assert.equal(m.blocks[0].residMid, 'transformer.h.0/resid_mid');
  assert.ok(m.blocks[0].attnOut!.includes('branch_plus_bias'));
  assert.equal(mapping.unembed.weight, 'transformer.wte.weight');
  assert.equal(mapping.unembed.vocabMajor, true);
  assert.equal(mapping.finalNorm.kind, 'layer');
  const p = partition(mapping);
  assert.deepEqual(p.sharedInitializers.map((s) => [s.name, s.stages.sort().join(',')]), [['transformer.wte.weight', 'head,prelude']]);
});

test('partition: stages use disjoint weights (only small tables shared), every initializer placed', () => {
  for (const model of [loadModel(path.join(STORIES, 'onnx/model.onnx')), buildFixture({ form: 'pytorch', layers: 3 }), loadModel(path.join(GENAI, 'model.onnx'))]) {
    const mapping = mapGraph(model);
    const p = partition(mapping);
    const stages = [p.prelude, ...p.sublayers, p.head];
    assert.equal(p.sublayers.length, 2 * mapping.layerMap.numLayers);
    const total = model.graph!.initializer!.reduce((a, t) => a + tensorBytes(t), 0);
    const placed = new Set(stages.flatMap((s) => s.model.graph!.initializer!.map((t) => t.name)));
    const used = new Set(model.graph!.node!.flatMap((n) => n.input!));
    for (const t of model.graph!.initializer!) if (used.has(t.name!)) assert.ok(placed.has(t.name!), `${t.name} placed`);
    const shared = p.sharedInitializers.reduce((a, s) => a + s.bytes * (s.stages.length - 1), 0);
    assert.ok(shared <= 0.05 * total, `duplicated ${shared} of ${total} bytes`);
    for (const s of p.sublayers) assert.equal(s.inputs[0], s.residualIn);
  }
});

test('not ONNX, truncated, and non-decoder graphs get clear errors', () => {
  assert.equal(codeOf(() => decodeModel(new TextEncoder().encode('{"hello": "json"}'))), 'NOT_ONNX');
  const bytes = fs.readFileSync(path.join(GQA, 'decoder.onnx'));
  assert.equal(codeOf(() => decodeModel(bytes.subarray(0, bytes.length >> 1))), 'TRUNCATED_MODEL');
  // an encoder-style graph: embedding then a classifier, no residual stream
  const g = new GraphBuilder(1);
  const ids = g.input('input_ids', DT.INT64, ['b', 's']);
  const e = g.op1('Gather', [g.weight('emb', [10, 4], 1), ids]);
  g.op('MatMul', [g.op1('Relu', [e]), g.weight('cls', [4, 10], 1)], {}, { outputs: ['logits'] });
  g.output('logits', DT.FLOAT, ['b', 's', 10]);
  assert.equal(codeOf(() => mapModel(g.model({ '': 14 }, 'encoder'))), 'UNSUPPORTED_ARCHITECTURE');
  const noIds = buildFixture({ form: 'pytorch' });
  noIds.graph!.input![0].name = 'pixel_values';
  assert.match(String((() => { try { mapModel(noIds); } catch (e) { return (e as Error).message; } })()), /input_ids/);
});

test('external data: loaded when next to the model; missing or outside the folder is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-ext-'));
  try {
    const file = writeFixture(path.join(dir, 'ok'), { form: 'pytorch' }, {});
    const weights = (m: ReturnType<typeof buildFixture>) => m.graph!.initializer!.map((t) => [t.name, Buffer.from(t.rawData!).toString('base64')]);
    assert.deepEqual(weights(loadModel(file)), weights(buildFixture({ form: 'pytorch' })));
    fs.rmSync(path.join(dir, 'ok', 'model.onnx_data'));
    assert.equal(codeOf(() => loadModel(file)), 'MISSING_EXTERNAL_DATA');
    const up = writeFixture(path.join(dir, 'up'), { form: 'pytorch' }, { location: '../../etc/passwd' });
    assert.equal(codeOf(() => loadModel(up)), 'EXTERNAL_DATA_OUTSIDE_FOLDER');
    const abs = writeFixture(path.join(dir, 'abs'), { form: 'pytorch' }, { location: '/etc/passwd' });
    assert.equal(codeOf(() => loadModel(abs)), 'EXTERNAL_DATA_OUTSIDE_FOLDER');
    const genai = loadModel(path.join(GENAI, 'model.onnx'));
    assert.ok(genai.graph!.initializer!.every((t) => (t.rawData?.length ?? 0) > 0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
