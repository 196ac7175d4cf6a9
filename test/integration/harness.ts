// Shared by the integration suites (bundled into each): the extension under test, activated, and
// paths resolved from the bundle's location (out/test/integration/suites/ in the repo).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as vscode from 'vscode';

/** Repository root (the extensionDevelopmentPath). */
export const repoRoot = resolve(__dirname, '../../../..');

/** A shared test model folder (read at run time from ../shared/models beside the repo), if present. */
export function sharedModel(name: string): string | undefined {
  const p = resolve(repoRoot, '../shared/models', name);
  return existsSync(p) ? p : undefined;
}

/** The extension (from the repo), activated. */
export async function activated(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.all.find((e) => e.extensionUri.fsPath === repoRoot);
  if (!ext) throw new Error(`the extension at ${repoRoot} is not loaded`);
  await ext.activate();
  return ext;
}

/** The workspace folder the tests run in (a throwaway copy made by run.mjs). */
export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri.fsPath;
}

/** Snapshot from the hidden test command. */
export interface TestState {
  model: { id: string; name: string; layerMap: { numLayers: number; vocabSize: number } } | null;
  sidecarPid: number | null;
  sidecarGeneration: number;
  features: string[];
}

export async function testState(): Promise<TestState> {
  return (await vscode.commands.executeCommand('layerlens._testState')) as TestState;
}
