// Contract between the webview shell (webview/main.ts) and each feature's view (webview/<kind>/view.ts).
import type { ExportFormat, PanelKind, PromptLink } from '../protocol';

export interface ViewInit<R = unknown> {
  kind: PanelKind;
  title: string;
  result: R;
  link?: PromptLink;
  stale: boolean;
}

/** What the shell gives a view. */
export interface ViewHost {
  /** Tell the editor which prompt token is hovered (null: none) — it highlights the token's span. */
  hoverToken(tokenIndex: number | null): void;
  selectToken(tokenIndex: number): void;
  /** Feature-private request to the host (answered by the feature's onWebviewRequest handler). */
  request<T = unknown>(method: string, params?: unknown): Promise<T>;
  /** Ask the host to save a file (PNG/SVG as base64 or utf8 text; CSV/JSON as utf8). */
  exportFile(format: ExportFormat, data: string, encoding: 'utf8' | 'base64', suggestedName: string): void;
  rerun(): void;
  /** Persisted per-panel UI state (survives hide/show), via vscode.getState/setState. */
  getState<S>(): S | undefined;
  setState<S>(s: S): void;
  /** Reads a VS Code theme colour variable, e.g. '--vscode-editor-foreground'. */
  cssVar(name: string): string;
}

/** What a view module exports (webview/<kind>/view.ts). */
export interface ViewModule {
  mount(root: HTMLElement, host: ViewHost, init: ViewInit): ViewInstance;
}

export interface ViewInstance {
  /** A new result for the same panel (re-run). */
  update(init: ViewInit): void;
  /** Editor cursor moved onto prompt token `tokenIndex` (null: outside the prompt). */
  editorCursor(tokenIndex: number | null): void;
  setStale(stale: boolean): void;
  /** Progress of a running request (partial results may come along). */
  progress?(fraction: number | undefined, message: string | undefined, partial: unknown): void;
  /** Theme changed (body class vscode-light/dark/high-contrast). */
  themeChanged?(): void;
}
