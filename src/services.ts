// What the shell's commands and views share; built once in extension.ts.
import type * as vscode from 'vscode';
import type { ShellContext } from './features/context';
import type { ModelService } from './models/service';
import type { ResultStore } from './results/store';
import type { SidecarClient } from './sidecar/client';
import type { StatusDisplay } from './status';

export interface Services {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly client: SidecarClient;
  readonly models: ModelService;
  readonly store: ResultStore;
  readonly context: ShellContext;
  readonly status: StatusDisplay;
  /** Names of the features bundled in (src/features/index.ts). */
  readonly features: readonly string[];
}

/** A command module: src/commands/<name>.ts exports one of these. */
export interface ShellCommand {
  id: string;
  run(s: Services, ...args: unknown[]): unknown;
}
