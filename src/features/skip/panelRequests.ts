// Requests from the skip panel: run the early-exit simulator, a self-speculative run or a custom plan
// on the panel's prompt, re-run the sweep with other options, and keep named plans in workspace state.
import type { EarlyExitResult, ExecutionPlan, PlanRunResult, SavedPlan, SelfSpecParams, SelfSpecResult, SweepOptions, TextInput } from '../../../protocol';
import type { FeatureContext, StoredResult } from '../api';

const PLANS_KEY = 'layerlens.skip.savedPlans';

function savedPlans(ctx: FeatureContext): SavedPlan[] {
  return ctx.extension.workspaceState.get<SavedPlan[]>(PLANS_KEY, []);
}

async function setSavedPlans(ctx: FeatureContext, plans: SavedPlan[]): Promise<SavedPlan[]> {
  await ctx.extension.workspaceState.update(PLANS_KEY, plans);
  return plans;
}

/** The text input of the panel's own request, on the current model. */
async function input(ctx: FeatureContext, stored: StoredResult): Promise<TextInput> {
  const model = await ctx.ensureModel();
  const p = stored.request.params as Partial<TextInput>;
  return { modelId: model.id, text: p.text ?? stored.prompt?.text, ids: p.text === undefined ? p.ids : undefined, chatTemplate: p.chatTemplate };
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

export function handlePanelRequest(ctx: FeatureContext) {
  return async (method: string, params: unknown, stored: StoredResult): Promise<unknown> => {
    const p = obj(params);
    switch (method) {
      case 'earlyExit':
        return ctx.withProgress('Early exit', async (opts): Promise<EarlyExitResult> => ctx.request('skip/earlyExit', await input(ctx, stored), opts));
      case 'selfSpec': {
        const req = p as Partial<SelfSpecParams>;
        if (!req.mode) throw new Error('selfSpec needs a drafting mode');
        return ctx.withProgress('Self-speculative decoding', async (opts): Promise<SelfSpecResult> =>
          ctx.request('skip/selfSpec', { ...(await input(ctx, stored)), mode: req.mode!, draftLength: req.draftLength, maxNewTokens: req.maxNewTokens, temperature: req.temperature }, opts));
      }
      case 'runPlan': {
        const plan = p.plan as ExecutionPlan | undefined;
        if (!plan) throw new Error('runPlan needs a plan');
        return ctx.withProgress('Run plan', async (opts): Promise<PlanRunResult> =>
          ctx.request('skip/runPlan', { ...(await input(ctx, stored)), plan, maxNewTokens: typeof p.maxNewTokens === 'number' ? p.maxNewTokens : 32 }, opts));
      }
      case 'sweep': {
        // Re-sweep with other options (answer token, repeats, spans); the panel shows the new result.
        const base = stored.request.params as { options?: SweepOptions };
        const req = { ...(await input(ctx, stored)), options: { ...base.options, ...obj(p.options) }, answerIndex: typeof p.answerIndex === 'number' ? p.answerIndex : undefined };
        const result = await ctx.withProgress('Skip sweep', (opts) => ctx.request('skip/sweep', req, opts));
        if (!result) return { ok: false };
        const { id: _id, createdAt: _createdAt, ...previous } = stored;
        await ctx.showResult({ ...previous, modelId: req.modelId, tokens: result.tokens, request: { method: 'skip/sweep', params: req }, result });
        return { ok: true };
      }
      case 'listPlans':
        return savedPlans(ctx);
      case 'savePlan': {
        const name = typeof p.name === 'string' ? p.name.trim() : '';
        const plan = p.plan as ExecutionPlan | undefined;
        if (!name || !plan || !Array.isArray(plan.slots)) throw new Error('savePlan needs a name and a plan');
        return setSavedPlans(ctx, [...savedPlans(ctx).filter((x) => x.name !== name), { name, plan }]);
      }
      case 'deletePlan':
        return setSavedPlans(ctx, savedPlans(ctx).filter((x) => x.name !== p.name));
      default:
        throw new Error(`unknown skip panel request "${method}"`);
    }
  };
}
