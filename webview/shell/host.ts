// The ViewHost a view gets: typed messages to the host, request/reply by id, per-panel state.
import type { ExportFormat, HostToWebview, WebviewToHost } from '../../protocol';
import type { ViewHost } from '../api';

/** What the shell persists with vscode.setState: the result id lets the host's serializer restore the panel. */
export interface PersistedState {
  resultId: string;
  view?: unknown;
}

export interface ShellHost extends ViewHost {
  /** Settles a pending request from a 'reply' message. */
  settle(reply: Extract<HostToWebview, { type: 'reply' }>): void;
  post(msg: WebviewToHost): void;
}

export function createHost(api: VsCodeApi, resultId: string, onRerun: () => void): ShellHost {
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const state = (): PersistedState => {
    const s = api.getState() as Partial<PersistedState> | undefined;
    return { resultId, view: s?.resultId === resultId ? s.view : undefined };
  };
  // Persist the id at once, so the panel can be restored even if the view never saves state.
  api.setState(state());
  const post = (msg: WebviewToHost) => api.postMessage(msg);
  return {
    post,
    hoverToken: (tokenIndex) => post({ type: 'hoverToken', tokenIndex }),
    selectToken: (tokenIndex) => post({ type: 'selectToken', tokenIndex }),
    request<T>(method: string, params?: unknown): Promise<T> {
      const requestId = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
        post({ type: 'request', requestId, method, params });
      });
    },
    settle(reply) {
      const p = pending.get(reply.requestId);
      if (!p) return;
      pending.delete(reply.requestId);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(reply.error ?? 'request failed'));
    },
    exportFile: (format: ExportFormat, data, encoding, suggestedName) => post({ type: 'export', format, data, encoding, suggestedName }),
    rerun: onRerun,
    getState: <S>() => state().view as S | undefined,
    setState: <S>(s: S) => api.setState({ resultId, view: s } satisfies PersistedState),
    cssVar: (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim(),
  };
}
