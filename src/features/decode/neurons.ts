// layerlens.decodeNeurons: pick a block; open a decode panel listing its MLP neurons with the tokens each
// promotes and suppresses through the unembedding (searchable, sortable, exportable; another block can be
// chosen in the panel).
import * as vscode from 'vscode';
import type { NeuronsParams } from '../../../protocol';
import type { FeatureContext } from '../api';

/** Every neuron of a block is sent (the panel filters and pages); top-8 tokens each way. */
const NEURON_REQUEST = { topK: 8, limit: 10_000 } as const;

export async function decodeNeurons(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const model = await ctx.ensureModel();
  const L = model.layerMap.numLayers;
  const given = (arg as { layer?: number } | undefined)?.layer;
  const layer = typeof given === 'number' ? given : (await vscode.window.showQuickPick(Array.from({ length: L }, (_, i) => ({ label: `Block ${i}`, layer: i })), { title: 'Decode the MLP neurons of which block?' }))?.layer;
  if (layer === undefined) return;
  const params: NeuronsParams = { modelId: model.id, layer, ...NEURON_REQUEST };
  const res = await ctx.withProgress(`Decoding the neurons of block ${layer}`, (opts) => ctx.request('decode/neurons', params, opts));
  if (!res) return;
  await ctx.showResult({ kind: 'decode', title: `MLP neurons: ${model.name}`, modelId: model.id, modelName: model.name, request: { method: 'decode/neurons', params }, result: res });
}
