// The project's engine runs the shipped demo model: graph mapped into 4 separable blocks, identity plan
// equal to the PyTorch reference logits the model was exported with.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEngine, type LayeredEngine } from '../../../native/engine/index';
import { CONFIG, DEMO_DATA, ONNX_FILE, readJson } from './helpers';

const REFERENCE = readJson<{ cases: Array<{ ids: number[]; last_logits: number[] }> }>(path.join(DEMO_DATA, 'reference.json'));

describe('engine on the demo model', () => {
  let engine: LayeredEngine;
  before(async () => {
    engine = await createEngine({ path: ONNX_FILE }, { threads: 1 });
  });
  after(() => engine.dispose());

  it('maps every block of the PyTorch-style export', () => {
    const m = engine.layerMap;
    assert.equal(m.graphForm, 'pytorch');
    assert.equal(m.numLayers, CONFIG.num_hidden_layers);
    assert.equal(m.vocabSize, CONFIG.vocab_size);
    for (let i = 0; i < m.numLayers; i++) assert.equal(m.blocks[i].residOut, `/model/layers.${i}/Add_1_output_0`);
  });

  it('gives the PyTorch logits under the identity plan (1e-4)', async () => {
    for (const c of REFERENCE.cases) {
      const { logits } = await engine.forward(c.ids, { logits: 'last' });
      let diff = 0;
      for (let v = 0; v < CONFIG.vocab_size; v++) diff = Math.max(diff, Math.abs(logits!.data[v] - c.last_logits[v]));
      assert.ok(diff < 1e-4, `max |diff| ${diff}`);
    }
  });
});
