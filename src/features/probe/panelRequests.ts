// Requests from the probe panel: the saved runs it can overlay, one run's result, and the zero-shot
// baseline on the run's data set.
import type { ProbeTrainParams } from '../../../protocol';
import type { FeatureContext, StoredResult } from '../api';
import { listSavedProbes, loadRun } from './storage';

export function handlePanelRequest(ctx: FeatureContext) {
  return async (method: string, params: unknown, stored: StoredResult): Promise<unknown> => {
    switch (method) {
      case 'listRuns':
        return (await listSavedProbes(ctx)).map((s) => ({ name: s.name, runFile: s.runFile }));
      case 'loadRun': {
        const runFile = (params as { runFile?: unknown } | undefined)?.runFile;
        const known = (await listSavedProbes(ctx)).some((s) => s.runFile === runFile);
        if (typeof runFile !== 'string' || !known) throw new Error('unknown probe run');
        return loadRun(runFile);
      }
      case 'zeroShot': {
        // The zero-shot baseline on the run's data set, with the label words typed in the panel.
        const words = (params as { words?: unknown } | undefined)?.words;
        if (!words || typeof words !== 'object') throw new Error('give a word for every label');
        const model = await ctx.ensureModel();
        const { dataset } = stored.request.params as ProbeTrainParams;
        return ctx.withProgress('Zero-shot baseline', (opts) => ctx.request('probe/zeroShot', { modelId: model.id, dataset, words: words as Record<string, string> }, opts)).then((r) => r ?? Promise.reject(new Error('not scored (cancelled, or see the error notification)')));
      }
      default:
        throw new Error(`unknown probe panel request ${method}`);
    }
  };
}
