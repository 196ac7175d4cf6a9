// The decode feature (host side): commands and the decode panel's requests. Analyses run in the sidecar.
import type { FeatureContext } from '../api';
import { compareLenses } from './compareLenses';
import { decodeLayers } from './decodeLayers';
import { fitLens } from './fitLens';
import { decodeNeurons } from './neurons';
import { handlePanelRequest } from './panelRequests';

export function activate(ctx: FeatureContext): void {
  ctx.registerCommand('layerlens.decodeLayers', (arg) => decodeLayers(ctx, arg));
  ctx.registerCommand('layerlens.fitLens', (arg) => fitLens(ctx, arg));
  ctx.registerCommand('layerlens.decodeNeurons', (arg) => decodeNeurons(ctx, arg));
  ctx.registerCommand('layerlens.compareLenses', (arg) => compareLenses(ctx, arg));
  ctx.extension.subscriptions.push(ctx.onWebviewRequest('decode', handlePanelRequest(ctx)));
}
