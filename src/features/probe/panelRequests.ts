// Requests from the probe panel: the saved runs it can overlay, and one run's result.
import type { FeatureContext } from '../api';
import { listSavedProbes, loadRun } from './storage';

export function handlePanelRequest(ctx: FeatureContext) {
  return async (method: string, params: unknown): Promise<unknown> => {
    switch (method) {
      case 'listRuns':
        return (await listSavedProbes(ctx)).map((s) => ({ name: s.name, runFile: s.runFile }));
      case 'loadRun': {
        const runFile = (params as { runFile?: unknown } | undefined)?.runFile;
        const known = (await listSavedProbes(ctx)).some((s) => s.runFile === runFile);
        if (typeof runFile !== 'string' || !known) throw new Error('unknown probe run');
        return loadRun(runFile);
      }
      default:
        throw new Error(`unknown probe panel request ${method}`);
    }
  };
}
