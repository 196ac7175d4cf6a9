// layerlens.* settings, read fresh on every access so changes apply without a reload.
import * as vscode from 'vscode';
import type { ExecutionProviderName } from '../protocol';

export const SECTION = 'layerlens';

/** A setting under layerlens.*, or `fallback` when unset or of the wrong type. */
export function config<T>(key: string, fallback: T): T {
  const value = vscode.workspace.getConfiguration(SECTION).get<unknown>(key);
  return value === undefined || value === null || typeof value !== typeof fallback ? fallback : (value as T);
}

export type LensName = 'logit' | 'shortcut' | 'tuned';

/** The typed settings the shell itself uses. */
export interface Settings {
  modelPath: string;
  executionProvider: ExecutionProviderName | 'auto';
  maxTokens: number;
  defaultLens: LensName;
  topK: number;
}

export function settings(): Settings {
  return {
    modelPath: config('modelPath', ''),
    executionProvider: config<Settings['executionProvider']>('executionProvider', 'auto'),
    maxTokens: config('maxTokens', 512),
    defaultLens: config<LensName>('defaultLens', 'logit'),
    topK: config('topK', 5),
  };
}

/** True when a change event touches any layerlens.* setting in `keys` (all when empty). */
export function affects(e: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
  return keys.length === 0 ? e.affectsConfiguration(SECTION) : keys.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}
