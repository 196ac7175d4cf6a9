// layerlens.probeReadout: apply saved probes to every token x layer of the prompt in the editor and
// show the class-probability heatmap, linked to the editor tokens.
import * as vscode from 'vscode';
import type { ProbeReadoutParams } from '../../../protocol';
import type { FeatureContext } from '../api';
import { firstWords } from '../skip/sweep';
import { listSavedProbes } from './storage';

const TRAIN = '$(add) Train new probes on a data set…';
const BROWSE = '$(folder-opened) Open a probe file…';

/** The probe file to apply: from the argument, the newest-first list of saved probes, or a file dialog. */
async function pickProbeFile(ctx: FeatureContext, arg: unknown): Promise<string | undefined> {
  const given = (arg as { probeFile?: unknown } | undefined)?.probeFile;
  if (typeof given === 'string') return given;
  const saved = await listSavedProbes(ctx);
  const pick = await vscode.window.showQuickPick([...saved.map((s) => ({ label: s.name, file: s.probeFile })), { label: TRAIN, file: '' }, { label: BROWSE, file: '' }], {
    title: 'Probe to read out',
    placeHolder: saved.length ? 'Saved probes, newest first' : 'No probes trained yet',
  });
  if (!pick) return undefined;
  if (pick.label === TRAIN) {
    await vscode.commands.executeCommand('layerlens.probeTrain');
    return undefined;
  }
  if (pick.label === BROWSE) {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'layerlens probes': ['json'] } });
    return files?.[0]?.fsPath;
  }
  return pick.file;
}

export async function probeReadout(ctx: FeatureContext, arg?: unknown): Promise<void> {
  const prompt = ctx.resolvePrompt(arg);
  if (!prompt) {
    void vscode.window.showWarningMessage('layerlens: put the cursor in a prompt (or select text) to read probes out on it.');
    return;
  }
  const probeFile = await pickProbeFile(ctx, arg);
  if (!probeFile) return;
  const model = await ctx.ensureModel();
  const params: ProbeReadoutParams = { modelId: model.id, text: prompt.text, probeFile };
  const result = await ctx.withProgress('Probe readout', (opts) => ctx.request('probe/readout', params, opts));
  if (!result) return;
  await ctx.showResult({
    kind: 'probe',
    title: `Probe readout (${result.probe.datasetName}): ${firstWords(prompt.text)}`,
    modelId: model.id,
    modelName: model.name,
    prompt,
    tokens: result.tokens,
    request: { method: 'probe/readout', params },
    result,
  });
}
