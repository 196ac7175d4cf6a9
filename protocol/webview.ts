// Host <-> webview messages. Unions with a literal `type`, as in vscode-hexeditor's shared protocol.

export type PanelKind = 'decode' | 'skip' | 'probe';
export type ExportFormat = 'png' | 'svg' | 'csv' | 'json';

/** Where the panel's prompt lives in the editor, so the panel stays linked to it. */
export interface PromptLink {
  uri: string;
  /** Character offset of the prompt in the document. */
  startOffset: number;
  text: string;
}

export type HostToWebview =
  | { type: 'init'; kind: PanelKind; title: string; result: unknown; link?: PromptLink; stale: boolean }
  | { type: 'result'; result: unknown }
  | { type: 'progress'; fraction?: number; message?: string; partial?: unknown }
  | { type: 'editorCursor'; tokenIndex: number | null }
  | { type: 'stale'; stale: boolean }
  | { type: 'error'; message: string }
  | { type: 'reply'; requestId: number; ok: boolean; value?: unknown; error?: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'hoverToken'; tokenIndex: number | null }
  | { type: 'selectToken'; tokenIndex: number }
  | { type: 'rerun' }
  | { type: 'export'; format: ExportFormat; data: string; encoding: 'utf8' | 'base64'; suggestedName: string }
  /** A feature-specific request answered by a 'reply' with the same requestId. */
  | { type: 'request'; requestId: number; method: string; params: unknown };
