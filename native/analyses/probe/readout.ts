// Readout: apply saved per-layer probes to every token of a prompt at every layer.
import type { TapName } from '../../../protocol';
import type { Engine } from '../../engine/api';
import { ModelError } from '../../onnx/errors';
import { applyLayerProbe, type SavedProbes } from './saved';

/** Probability of each class, [layer][token][class], for the layers the probe file covers. */
export async function probeReadout(engine: Pick<Engine, 'layerMap' | 'forward'>, ids: number[], probes: SavedProbes, signal?: AbortSignal): Promise<number[][][]> {
  if (probes.hidden !== engine.layerMap.hiddenSize) {
    throw new ModelError('BAD_REQUEST', `The probe was trained on hidden size ${probes.hidden}; this model has ${engine.layerMap.hiddenSize}.`);
  }
  const available = new Set(engine.layerMap.taps.filter((t) => t.available).map((t) => t.name as string));
  const missing = probes.layers.filter((l) => !available.has(l.name)).map((l) => l.name);
  if (missing.length) throw new ModelError('BAD_REQUEST', `This model has no ${missing.join(', ')} for the probe.`);
  const res = await engine.forward(ids, { taps: probes.layers.map((l) => l.name as TapName), logits: 'none', signal });
  const C = probes.labels.length;
  const d = probes.hidden;
  const p = new Float64Array(C);
  return probes.layers.map((layer) => {
    const m = res.taps.get(layer.name as TapName)!;
    return Array.from({ length: m.rows }, (_, t) => {
      applyLayerProbe(layer, m.data.subarray(t * d, (t + 1) * d), C, p);
      return Array.from(p);
    });
  });
}
