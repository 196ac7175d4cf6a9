// The sidecar's JSON-RPC surface: one method map, typed params and results.
import type { CoreMethods } from './core';
import type { DecodeMethods } from './decode';
import type { ProbeMethods } from './probe';
import type { SkipMethods } from './skip';

export interface SidecarMethods extends CoreMethods, DecodeMethods, SkipMethods, ProbeMethods {}
export type SidecarMethod = keyof SidecarMethods;
export type ParamsOf<M extends SidecarMethod> = SidecarMethods[M] extends { params: infer P } ? P : never;
export type ResultOf<M extends SidecarMethod> = SidecarMethods[M] extends { result: infer R } ? R : never;

/** Every request may carry a progress token; the sidecar then sends PROGRESS_NOTIFICATION with it. */
export interface WithProgress {
  progressToken?: string;
}
