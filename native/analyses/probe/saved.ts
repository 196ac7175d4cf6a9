// Trained probes on disk: every layer's final probe with the data set hash, pooling, labels and
// metrics, so they can be reloaded and applied to new text later.
import { readFile, writeFile } from 'node:fs/promises';
import type { ProbePooling } from '../../../protocol';
import { ModelError } from '../../onnx/errors';
import type { TrainedLayerProbe } from './fit';

export interface SavedProbes {
  format: 'layerlens-probe';
  version: 1;
  createdAt: string;
  modelName: string;
  modelFingerprint: string;
  datasetName: string;
  datasetHash: string;
  pooling: ProbePooling;
  labels: string[];
  hidden: number;
  bestLayer: number;
  layers: TrainedLayerProbe[];
}

export async function saveProbes(path: string, probes: SavedProbes): Promise<void> {
  await writeFile(path, JSON.stringify(probes));
}

/** Loads and checks a probe file; a file that is not one gives a BAD_REQUEST error saying why. */
export async function loadProbes(path: string): Promise<SavedProbes> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ModelError('BAD_REQUEST', `Cannot read the probe file ${path}: ${(e as Error).message}`);
  }
  const p = value as SavedProbes;
  const bad = (why: string) => new ModelError('BAD_REQUEST', `${path} is not a layerlens probe file: ${why}`);
  if (!p || p.format !== 'layerlens-probe' || p.version !== 1) throw bad('wrong format marker');
  if (!Array.isArray(p.labels) || p.labels.length < 2 || !Array.isArray(p.layers) || p.layers.length === 0) throw bad('no labels or layers');
  const C = p.labels.length;
  for (const l of p.layers) {
    if (l.mean?.length !== p.hidden || l.invStd?.length !== p.hidden || l.weights?.length !== C * p.hidden || l.bias?.length !== C) throw bad(`layer ${l.name} has the wrong shape`);
  }
  return p;
}

/** Class probabilities of one residual vector h (length hidden) under a layer's probe, into `out`. */
export function applyLayerProbe(probe: TrainedLayerProbe, h: ArrayLike<number>, classes: number, out: Float64Array): void {
  const d = probe.mean.length;
  let max = -Infinity;
  for (let c = 0; c < classes; c++) {
    let s = probe.bias[c];
    for (let j = 0; j < d; j++) s += probe.weights[c * d + j] * (h[j] - probe.mean[j]) * probe.invStd[j];
    out[c] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += out[c] = Math.exp(out[c] - max);
  for (let c = 0; c < classes; c++) out[c] /= sum;
}
