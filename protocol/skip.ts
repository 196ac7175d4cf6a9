// Skip pillar: request/response types for the sidecar and the results the skip panel renders.
// Results are reduced: numbers per plan, per layer and per token, never vocab-sized tensors.
import type { TextInput } from './core';
import type { ExecutionPlan, TokenSpan } from './model';
import type { WithProgress } from './rpc';

// ---------------------------------------------------------------- layer sweep

export type SweepEntryKind = 'skip' | 'skipAttn' | 'skipMlp' | 'swap' | 'repeat' | 'span';

/** Which plans a sweep runs. Single-block skips, sublayer skips and adjacent swaps by default. */
export interface SweepOptions {
  skips?: boolean;
  /** Skip only attention / only the MLP of each block (where the graph separates them). */
  sublayers?: boolean;
  /** Adjacent swaps (i, i+1). */
  swaps?: boolean;
  /** Every pair swap (i, j), for the full swap matrix. */
  allSwaps?: boolean;
  repeats?: boolean;
  /** Lengths of contiguous spans to skip (each >= 2), e.g. [2, 3]. */
  spans?: number[];
}

export interface SkipSweepParams extends TextInput, WithProgress {
  /** A corpus instead of (or besides) the prompt: JSONL lines ({"text": …} or strings) or plain text paragraphs. */
  corpus?: { content: string; format: 'jsonl' | 'text' };
  /** Token index in the prompt of the answer token (predicted from the position before it). */
  answerIndex?: number;
  options?: SweepOptions;
}

/** What happens to the marked answer token under a plan. */
export interface AnswerChange {
  tokenId: number;
  baseLogprob: number;
  logprob: number;
  /** 0 = still the top-1 prediction. */
  rank: number;
  /** The plan's top-1 token at that position. */
  top1Id: number;
  top1Text: string;
}

export interface SweepEntry {
  kind: SweepEntryKind;
  layers: number[];
  plan: ExecutionPlan;
  label: string;
  /** Mean next-token cross-entropy (nats) over all scored positions (null in JSON for a one-token text). */
  ce: number;
  /** Mean KL(unmodified || plan) over all positions, nats. */
  kl: number;
  /** Fraction of positions where the plan's top-1 equals the unmodified model's. */
  top1: number;
  /** KL per token of the prompt (first text). */
  klPerToken: number[];
  answer?: AnswerChange;
}

/** Per block and per token residual-stream statistics of the unmodified model (prompt only). */
export interface SublayerStats {
  /** Per block: attention and MLP are separately visible. */
  separable: boolean[];
  /** ||attn_out|| / ||resid_pre||, [layer][token] (null where the block is not separable). */
  attnRelNorm: (number | null)[][];
  /** cos(attn_out, resid_pre). */
  attnCos: (number | null)[][];
  /** ||mlp_out|| / ||resid_mid||. */
  mlpRelNorm: (number | null)[][];
  /** cos(mlp_out, resid_mid). */
  mlpCos: (number | null)[][];
  /** ||resid_post - resid_pre||. */
  deltaL2: (number | null)[][];
  /** cos(resid_pre, resid_post) (Painters: "middle layers are alike"). */
  ioCos: (number | null)[][];
  /** Means over all tokens of all texts, per layer (null where not separable). */
  means: Record<'attnRelNorm' | 'attnCos' | 'mlpRelNorm' | 'mlpCos' | 'deltaL2' | 'ioCos', (number | null)[]>;
  /** Mean over tokens of cos(h_i, h_j) between block outputs, [layer][layer]. */
  similarity: number[][];
}

export interface SkipSweepResult {
  analysis: 'sweep';
  numLayers: number;
  /** Prompt tokens (first text). */
  tokens: TokenSpan[];
  texts: number;
  /** The marked answer token's index in the prompt, when one was marked. */
  answerIndex?: number;
  /** Positions scored for CE (sum over texts). */
  positions: number;
  baseCe: number;
  entries: SweepEntry[];
  sublayer: SublayerStats;
  /** Blocks evaluated (incl. the shared unmodified pass) divided by the number of layers: cost in full forwards. */
  forwardEquivalents: number;
  elapsedMs: number;
}

/** Progress partial of a sweep: the entries so far. */
export interface SkipSweepPartial {
  entries: SweepEntry[];
}

// ---------------------------------------------------------------- early exit

export type ExitRule = 'maxProb' | 'entropy' | 'stable';

export interface EarlyExitParams extends TextInput, WithProgress {
  /** Thresholds per rule (defaults: a grid per rule). 'stable' thresholds are k (layers). */
  thresholds?: Partial<Record<ExitRule, number[]>>;
}

export interface ExitCurvePoint {
  threshold: number;
  /** Mean number of blocks run (1..L). */
  avgLayers: number;
  /** Fraction of positions whose exit prediction equals the full model's greedy token. */
  agreement: number;
}

export interface ExitRuleResult {
  rule: ExitRule;
  curve: ExitCurvePoint[];
  /** Exit block per threshold per token, [threshold][token]. */
  exitLayers: number[][];
}

export interface EarlyExitResult {
  analysis: 'earlyExit';
  numLayers: number;
  tokens: TokenSpan[];
  /** Logit-lens statistics, [layer][token]. */
  maxProb: number[][];
  entropy: number[][];
  /** 1 when the layer's lens top-1 equals the final top-1. */
  agreesWithFinal: number[][];
  rules: ExitRuleResult[];
  elapsedMs: number;
}

// ---------------------------------------------------------------- self-speculative decoding

export type DraftMode =
  /** LayerSkip: run blocks 0..exitLayer, then the head. */
  | { kind: 'earlyExit'; exitLayer: number }
  /** SWIFT: the model without a set of blocks. */
  | { kind: 'skipSet'; skip: number[] }
  /** SWIFT: search a skip set on this prompt (greedy, maximising measured tokens/s). */
  | { kind: 'searchSkipSet' }
  /** DEL: exit layer and draft length chosen per round from tracked per-layer acceptance. */
  | { kind: 'dynamicExit' };

export interface SelfSpecParams extends TextInput, WithProgress {
  mode: DraftMode;
  maxNewTokens?: number;
  /** Tokens drafted per round; 'adaptive' stops drafting when the draft's confidence drops. */
  draftLength?: number | 'adaptive';
  /** 0/absent: greedy (output equals plain greedy); > 0: speculative sampling. */
  temperature?: number;
  seed?: number;
}

export interface SpecToken {
  id: number;
  text: string;
  /** 'accepted': drafted and verified; 'corrected': produced by the verifier after a rejection or a full accept. */
  origin: 'accepted' | 'corrected';
  round: number;
}

export interface SelfSpecStats {
  rounds: number;
  drafted: number;
  accepted: number;
  acceptanceRate: number;
  /** Accepted draft tokens per round. */
  meanAcceptedLength: number;
  draftMs: number;
  verifyMs: number;
  tokensPerSec: number;
}

export interface SelfSpecResult {
  analysis: 'selfSpec';
  numLayers: number;
  promptTokens: TokenSpan[];
  ids: number[];
  text: string;
  tokens: SpecToken[];
  /** The draft actually used (the found skip set for searchSkipSet). */
  draft: ExecutionPlan;
  spec: SelfSpecStats;
  greedy: { tokensPerSec: number; ids: number[] };
  /** Self-speculative tokens/s over plain greedy tokens/s, measured in the same run (> 1: faster). */
  speedup: number;
  /** Greedy mode only: output identical to plain greedy decoding. */
  equalsGreedy?: boolean;
  /** Exit layer per round (dynamicExit). */
  exitLayers?: number[];
  searchLog?: { skip: number[]; tokensPerSec: number }[];
}

// ---------------------------------------------------------------- custom plans

export interface PlanRunParams extends TextInput, WithProgress {
  plan: ExecutionPlan;
  maxNewTokens?: number;
}

export interface PlanRunResult {
  analysis: 'planRun';
  numLayers: number;
  tokens: TokenSpan[];
  plan: ExecutionPlan;
  /** KL(unmodified || plan) per prompt token. */
  klPerToken: number[];
  top1: number;
  baseCe: number;
  ce: number;
  original: { ids: number[]; text: string };
  modified: { ids: number[]; text: string };
}

/** What a skip panel shows: the result of any skip method (the stored result is the sidecar's answer). */
export type SkipPanelResult = SkipSweepResult | EarlyExitResult | SelfSpecResult | PlanRunResult;

/** A plan saved by name from the plan editor (workspace state). */
export interface SavedPlan {
  name: string;
  plan: ExecutionPlan;
}

export interface SkipMethods {
  'skip/sweep': { params: SkipSweepParams; result: SkipSweepResult };
  'skip/earlyExit': { params: EarlyExitParams; result: EarlyExitResult };
  'skip/selfSpec': { params: SelfSpecParams; result: SelfSpecResult };
  'skip/runPlan': { params: PlanRunParams; result: PlanRunResult };
}
