// The Model view's content for real models loaded by the real sidecar (native/sidecar.ts through the
// host's SidecarClient), checked against the models' own config files.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ModelInfo } from '../../../protocol';
import { SidecarClient } from '../../../src/sidecar/client';
import { formatBytes, modelTree, type InfoNode } from '../../../src/views/modelTree';

const repo = resolve(__dirname, '../../..');
const models = resolve(repo, '../shared/models');
const quiet = { info() {}, warn() {}, error() {}, trace() {} };

function child(nodes: InfoNode[], label: string): InfoNode {
  const n = nodes.find((x) => x.label === label);
  assert.ok(n, `no node "${label}" in ${nodes.map((x) => x.label).join(', ')}`);
  return n;
}

describe('Model view tree of real models', { skip: !existsSync(models) && 'shared models not found', timeout: 120_000 }, () => {
  const client = new SidecarClient({ command: process.execPath, args: ['--import', 'tsx', join(repo, 'native/sidecar.ts')], cwd: repo }, quiet);
  after(() => client.dispose());

  it('stories260K: layers, shape, provider, blocks and taps as config.json and the layer map say', async () => {
    const path = join(models, 'stories260K');
    const config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    const info: ModelInfo = await client.request('model/load', { path, provider: 'cpu' });
    const tree = modelTree(info, false);
    assert.equal(tree[0].label, info.name);
    assert.equal(tree[0].description, formatBytes(info.sizeBytes));
    assert.equal(child(tree, 'Execution provider').description, 'cpu');
    const arch = child(tree, 'Architecture').children!;
    assert.equal(child(arch, 'Layers').description, String(config.num_hidden_layers));
    assert.equal(child(arch, 'Hidden size').description, String(config.hidden_size));
    assert.equal(child(arch, 'Vocabulary').description, String(config.vocab_size));
    assert.equal(child(arch, 'Attention').description, `${config.num_attention_heads} heads (${config.num_key_value_heads} KV), head dim ${config.head_dim}`);
    const blocks = child(tree, 'Blocks').children!;
    assert.deepEqual(blocks.map((b) => b.label), Array.from({ length: config.num_hidden_layers }, (_, i) => `block ${i}`));
    // Llama blocks: attention and MLP are separate residual branches.
    assert.ok(blocks.every((b) => b.description === 'attn + MLP'), blocks.map((b) => b.description).join(', '));
    const taps = child(tree, 'Taps');
    const available = info.layerMap.taps.filter((t) => t.available);
    assert.equal(taps.description, `${available.length}/${info.layerMap.taps.length} available`);
    assert.ok(taps.children!.some((t) => t.label === `blocks.${config.num_hidden_layers - 1}.resid_post`));
  });

  it('marks a model the sidecar lost as stopped', async () => {
    const info: ModelInfo = await client.request('model/load', { path: join(models, 'stories260K'), provider: 'cpu' });
    const [top] = modelTree(info, true);
    assert.equal(top.disabled, true);
    assert.match(top.description!, /sidecar stopped/);
  });

  it('shows why a tap is unavailable, greyed out', () => {
    const info = {
      name: 'x', path: '/m', onnxFile: 'model.onnx', sizeBytes: 1536, provider: 'cpu', config: { hasChatTemplate: false },
      layerMap: {
        graphForm: 'contrib-gqa', numLayers: 1, hiddenSize: 8, vocabSize: 10, dtype: 'float16', inputIdsType: 'int32', hasKvCache: true, hasPositionIds: false,
        embedOutput: 'e', finalNormOutput: 'n', logitsOutput: 'l',
        blocks: [{ index: 0, residIn: 'a', residOut: 'b', sublayersSeparable: false }],
        taps: [{ name: 'blocks.0.resid_mid', available: false, reason: 'fused into SkipLayerNormalization' }, { name: 'embed', available: true }],
      },
    } as unknown as ModelInfo;
    const tree = modelTree(info, false);
    assert.equal(tree[0].description, '1.50 KB');
    const [mid, embed] = child(tree, 'Taps').children!;
    assert.deepEqual([mid.disabled, mid.description, mid.icon], [true, 'fused into SkipLayerNormalization', 'circle-slash']);
    assert.deepEqual([embed.disabled, embed.icon], [false, 'pass']);
    assert.equal(child(tree, 'Blocks').children![0].description, 'fused (not separable)');
    assert.equal(child(tree, 'Taps').description, '1/2 available');
  });
});
