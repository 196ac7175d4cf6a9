// Contract between the extension shell (src/) and each feature (decode / skip / probe).
// A feature lives in src/features/<kind>/: an index.ts exporting `activate(ctx: FeatureContext)`,
// one file per command, and its webview app in webview/<kind>/. The shell implements FeatureContext.
import type * as vscode from 'vscode';
import type { ParamsOf, PanelKind, ResultOf, SidecarMethod, TokenSpan, ProgressParams, ModelInfo } from '../../protocol';

/** A prompt in the editor: a whole *.prompt.md file, a ```prompt fence, a JSONL line, or a selection. */
export interface PromptRef {
  uri: vscode.Uri;
  /** The prompt's range in the document. */
  range: vscode.Range;
  text: string;
}

export interface RequestOptions {
  token?: vscode.CancellationToken;
  onProgress?: (p: ProgressParams) => void;
}

/** A stored, reopenable result of one analysis. */
export interface StoredResult<R = unknown> {
  id: string;
  kind: PanelKind;
  title: string;
  createdAt: string;
  modelId: string;
  modelName: string;
  prompt?: { uri: string; startOffset: number; text: string };
  /** Token spans of the prompt (offsets relative to prompt.text), for editor highlighting. */
  tokens?: TokenSpan[];
  /** The request that produced it, so it can be re-run. */
  request: { method: SidecarMethod; params: unknown };
  result: R;
}

/** A result to store and show: its prompt may be given as the PromptRef that was analysed. */
export type ResultToShow<R = unknown> = Omit<StoredResult<R>, 'id' | 'createdAt' | 'prompt'> & { prompt?: PromptRef | StoredResult['prompt'] };

export interface FeatureContext {
  readonly extension: vscode.ExtensionContext;
  /** Typed sidecar request; restarts the sidecar if it died; rejects with a readable Error on failure. */
  request<M extends SidecarMethod>(method: M, params: ParamsOf<M>, opts?: RequestOptions): Promise<ResultOf<M>>;
  /**
   * Runs `fn` under a cancellable progress notification; sidecar progress is forwarded to it.
   * Resolves undefined when cancelled; other errors are shown to the user and logged, then resolve undefined.
   */
  withProgress<T>(title: string, fn: (opts: Required<RequestOptions>) => Promise<T>): Promise<T | undefined>;
  /** The loaded model, loading the configured/demo one first if none is loaded. */
  ensureModel(): Promise<ModelInfo>;
  /** The prompt to analyse: from CodeLens arguments, else the selection, else the prompt under the cursor. */
  resolvePrompt(arg?: unknown): PromptRef | undefined;
  /** Persists a result and opens (or reveals) its panel, linked to its prompt. */
  showResult<R>(result: ResultToShow<R>): Promise<StoredResult<R>>;
  /** Handles a webview 'request' message of this feature's panels (method names are feature-private). */
  onWebviewRequest(kind: PanelKind, handler: (method: string, params: unknown, stored: StoredResult) => Promise<unknown>): vscode.Disposable;
  /** Settings under layerlens.* */
  config<T>(key: string, fallback: T): T;
  readonly log: vscode.LogOutputChannel;
  /**
   * Registers a command whose failures become a clear error message (not VS Code's generic one);
   * disposed with the extension.
   */
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable;
  /**
   * Custom re-run for this feature's panels ("Re-run" after the prompt was edited). Without one the
   * shell re-sends `stored.request` with the prompt's current text (params.text) and the current model
   * (params.modelId), and stores the sidecar's answer as `result` — right only when `result` is the
   * sidecar result unchanged. `prompt` is the prompt's current text and place, if it still exists.
   */
  registerRerun(kind: PanelKind, handler: (stored: StoredResult, prompt: PromptRef | undefined, opts: Required<RequestOptions>) => Promise<Omit<StoredResult, 'id' | 'createdAt'>>): vscode.Disposable;
}

/** What src/features/<kind>/index.ts exports; listed in src/features/index.ts. */
export interface FeatureModule {
  activate(ctx: FeatureContext): void | Promise<void>;
}
