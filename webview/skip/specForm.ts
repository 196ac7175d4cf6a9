// The self-speculative tab's form and the request it makes (pure, no DOM).
import type { DraftMode, SelfSpecParams } from '../../protocol';

export type ModeKind = DraftMode['kind'];

export interface SpecForm {
  kind: ModeKind;
  exitLayer: number;
  skip: string;
  draftLength: number;
  adaptive: boolean;
  maxNewTokens: number;
  temperature: number;
}

export const MODE_LABELS: Record<ModeKind, string> = {
  earlyExit: 'Early exit after block E (LayerSkip)',
  skipSet: 'Skip a set of blocks (SWIFT)',
  searchSkipSet: 'Search a skip set on this prompt (SWIFT)',
  dynamicExit: 'Dynamic exit layer (DEL)',
};

/** The request for a form. */
export function specRequest(f: SpecForm): Omit<SelfSpecParams, 'modelId'> {
  const mode: DraftMode =
    f.kind === 'earlyExit' ? { kind: 'earlyExit', exitLayer: f.exitLayer }
    : f.kind === 'skipSet' ? { kind: 'skipSet', skip: f.skip.split(/[\s,]+/).filter(Boolean).map(Number) }
    : { kind: f.kind };
  return { mode, draftLength: f.adaptive ? 'adaptive' : f.draftLength, maxNewTokens: f.maxNewTokens, temperature: f.temperature };
}
