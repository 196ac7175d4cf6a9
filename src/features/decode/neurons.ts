// layerlens.decodeNeurons: pick a block; list its MLP neurons with the tokens each promotes and
// suppresses through the unembedding, in a searchable quick pick (search matches token texts).
import * as vscode from 'vscode';
import type { FeatureContext } from '../api';

export async function decodeNeurons(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const model = await ctx.ensureModel();
  const L = model.layerMap.numLayers;
  const given = (arg as { layer?: number } | undefined)?.layer;
  const layer = typeof given === 'number' ? given : (await vscode.window.showQuickPick(Array.from({ length: L }, (_, i) => ({ label: `Block ${i}`, layer: i })), { title: 'Decode the MLP neurons of which block?' }))?.layer;
  if (layer === undefined) return;
  const res = await ctx.withProgress(`Decoding the neurons of block ${layer}`, (opts) => ctx.request('decode/neurons', { modelId: model.id, layer, topK: 8, limit: 10_000 }, opts));
  if (!res) return;
  const show = (ts: { text: string }[]) => ts.map((t) => JSON.stringify(t.text)).join(' ');
  await vscode.window.showQuickPick(
    res.neurons.map((n) => ({ label: `#${n.index}  ↑ ${show(n.promoted)}`, description: `‖w‖ ${n.norm.toFixed(2)}`, detail: `↓ ${show(n.suppressed)}` })),
    { title: `Block ${layer}: ${res.total} MLP neurons (promoted ↑ / suppressed ↓ tokens)`, matchOnDescription: false, matchOnDetail: true, placeHolder: 'Search tokens…' },
  );
}
