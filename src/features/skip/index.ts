// The skip feature (host side): commands, the skip panel's requests. Analyses run in the sidecar.
import type { FeatureContext } from '../api';
import { skipEarlyExit, skipSelfSpec } from './analyses';
import { handlePanelRequest } from './panelRequests';
import { skipSweep, skipSweepCorpus } from './sweep';

export function activate(ctx: FeatureContext): void {
  ctx.registerCommand('layerlens.skipSweep', (arg) => skipSweep(ctx, arg));
  ctx.registerCommand('layerlens.skipSweepCorpus', (arg) => skipSweepCorpus(ctx, arg));
  ctx.registerCommand('layerlens.skipEarlyExit', (arg) => skipEarlyExit(ctx, arg));
  ctx.registerCommand('layerlens.skipSelfSpec', (arg) => skipSelfSpec(ctx, arg));
  ctx.extension.subscriptions.push(ctx.onWebviewRequest('skip', handlePanelRequest(ctx)));
}
