// The probe feature (host side): train probes on a labelled data set, read saved probes out on a
// prompt, add editor selections to the workspace probe set. Analyses run in the sidecar.
import type { FeatureContext } from '../api';
import { probeAddToSet } from './addToSet';
import { handlePanelRequest } from './panelRequests';
import { probeReadout } from './readout';
import { probeTrain } from './train';

export function activate(ctx: FeatureContext): void {
  ctx.registerCommand('layerlens.probeReadout', (arg) => probeReadout(ctx, arg));
  ctx.registerCommand('layerlens.probeTrain', (arg) => probeTrain(ctx, arg));
  ctx.registerCommand('layerlens.probeAddToSet', (arg) => probeAddToSet(arg));
  ctx.extension.subscriptions.push(ctx.onWebviewRequest('probe', handlePanelRequest(ctx)));
}
