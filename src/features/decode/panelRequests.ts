// Requests from the decode panel: another lens for the same prompt, a fixed target token, the
// contrastive (DoLa) next token, and another block of a neuron list. Errors go back to the panel, which shows them.
import type { ContrastiveResult, DecodeLayersParams, DecodeLayersResult, LensKind, NeuronsParams, NeuronsResult } from '../../../protocol';
import type { FeatureContext, StoredResult } from '../api';
import { lensDir } from './lensDir';

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** The panel's own request on the current model. */
async function base(ctx: FeatureContext, stored: StoredResult): Promise<DecodeLayersParams> {
  const model = await ctx.ensureModel();
  const p = stored.request.params as DecodeLayersParams;
  return { ...p, modelId: model.id, text: p.text ?? stored.prompt?.text, lensDir: lensDir(ctx) };
}

export function handlePanelRequest(ctx: FeatureContext) {
  return async (method: string, params: unknown, stored: StoredResult): Promise<unknown> => {
    const p = obj(params);
    switch (method) {
      case 'layers': {
        const lenses = Array.isArray(p.lenses) ? (p.lenses as LensKind[]) : ['logit' as LensKind];
        return ctx.request('decode/layers', { ...(await base(ctx, stored)), lenses }) satisfies Promise<DecodeLayersResult>;
      }
      case 'target': {
        const lenses = Array.isArray(p.lenses) ? (p.lenses as LensKind[]) : undefined;
        const target = typeof p.target === 'number' ? p.target : undefined;
        return ctx.request('decode/layers', { ...(await base(ctx, stored)), lenses, target });
      }
      case 'contrastive': {
        const b = await base(ctx, stored);
        const premature = typeof p.premature === 'number' ? p.premature : undefined;
        return ctx.request('decode/contrastive', { modelId: b.modelId, text: b.text, ids: b.text === undefined ? b.ids : undefined, premature }) satisfies Promise<ContrastiveResult>;
      }
      case 'neurons': {
        // Another block of the neuron list, on the current model.
        const model = await ctx.ensureModel();
        const layer = typeof p.layer === 'number' ? p.layer : 0;
        return ctx.request('decode/neurons', { ...(stored.request.params as NeuronsParams), modelId: model.id, layer }) satisfies Promise<NeuronsResult>;
      }
      default:
        throw new Error(`unknown decode panel request ${method}`);
    }
  };
}
