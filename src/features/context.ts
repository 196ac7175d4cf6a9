// The shell's implementation of FeatureContext (src/features/api.ts): sidecar requests that survive
// sidecar restarts, progress, prompts, result storage and panels, webview requests and re-runs.
import * as vscode from 'vscode';
import type { ModelInfo, PanelKind, ParamsOf, ProgressParams, ResultOf, SidecarMethod, TokenSpan } from '../../protocol';
import { config, settings } from '../config';
import { commandTitle, isCancellation, registerSafeCommand, reportError } from '../errors';
import type { ModelService } from '../models/service';
import { PanelManager, type PanelServices } from '../panels/manager';
import type { ResultPanel } from '../panels/panel';
import { mayExceedTokens } from '../prompts/limits';
import { resolvePrompt } from '../prompts/resolve';
import type { NewResult, ResultStore } from '../results/store';
import { SidecarError, type SidecarClient } from '../sidecar/client';
import type { FeatureContext, PromptRef, RequestOptions, ResultToShow, StoredResult } from './api';

type WebviewRequestHandler = (method: string, params: unknown, stored: StoredResult) => Promise<unknown>;
type RerunHandler = Parameters<FeatureContext['registerRerun']>[1];

export class ShellContext implements FeatureContext, PanelServices, vscode.Disposable {
  readonly panels: PanelManager;
  private readonly webviewHandlers = new Map<PanelKind, WebviewRequestHandler>();
  private readonly rerunHandlers = new Map<PanelKind, RerunHandler>();

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly client: SidecarClient,
    readonly models: ModelService,
    readonly store: ResultStore,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.panels = new PanelManager(extension.extensionUri, store, log, this);
  }

  async request<M extends SidecarMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    const current = await this.models.refreshModelId(params);
    if (method !== 'model/tokenize') await this.checkPromptLength(current, opts);
    return this.client.request(method, current, opts);
  }

  /** Refuses a prompt longer than layerlens.maxTokens; tokenizes only when the text could be that long. */
  private async checkPromptLength(params: unknown, opts: RequestOptions): Promise<void> {
    const p = params as { modelId?: unknown; text?: unknown; chatTemplate?: unknown } | undefined;
    if (typeof p?.text !== 'string' || typeof p.modelId !== 'string') return;
    const max = settings().maxTokens;
    if (!mayExceedTokens(p.text, max, p.chatTemplate === true)) return;
    const { tokens } = await this.client.request('model/tokenize', { modelId: p.modelId, text: p.text, chatTemplate: p.chatTemplate === true }, { token: opts.token });
    if (tokens.length > max) {
      throw new SidecarError(`the prompt has ${tokens.length} tokens, more than layerlens.maxTokens (${max}): shorten it or raise the setting`, 'PROMPT_TOO_LONG');
    }
  }

  async withProgress<T>(title: string, fn: (opts: Required<RequestOptions>) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.progressNotification(title, fn);
    } catch (e) {
      reportError(this.log, title, e);
      return undefined;
    }
  }

  /** Runs `fn` under a cancellable progress notification that shows sidecar progress; rethrows failures. */
  private progressNotification<T>(title: string, fn: (opts: Required<RequestOptions>) => Promise<T>): Thenable<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `layerlens: ${title}`, cancellable: true }, (progress, token) => {
      let done = 0;
      const onProgress = (p: ProgressParams) => {
        const increment = p.fraction === undefined ? undefined : Math.max(0, (p.fraction - done) * 100);
        if (p.fraction !== undefined) done = Math.max(done, p.fraction);
        progress.report({ message: p.message, increment });
      };
      return fn({ token, onProgress });
    });
  }

  ensureModel(): Promise<ModelInfo> {
    return this.models.ensureModel();
  }

  resolvePrompt(arg?: unknown): PromptRef | undefined {
    return resolvePrompt(arg);
  }

  async showResult<R>(result: ResultToShow<R>): Promise<StoredResult<R>> {
    const p = result.prompt;
    const prompt = p && 'range' in p ? { uri: p.uri.toString(), startOffset: (await vscode.workspace.openTextDocument(p.uri)).offsetAt(p.range.start), text: p.text } : p;
    const stored = await this.store.save<R>({ ...result, prompt });
    this.panels.show(stored);
    return stored;
  }

  onWebviewRequest(kind: PanelKind, handler: WebviewRequestHandler): vscode.Disposable {
    this.webviewHandlers.set(kind, handler);
    return new vscode.Disposable(() => {
      if (this.webviewHandlers.get(kind) === handler) this.webviewHandlers.delete(kind);
    });
  }

  registerRerun(kind: PanelKind, handler: RerunHandler): vscode.Disposable {
    this.rerunHandlers.set(kind, handler);
    return new vscode.Disposable(() => {
      if (this.rerunHandlers.get(kind) === handler) this.rerunHandlers.delete(kind);
    });
  }

  config<T>(key: string, fallback: T): T {
    return config(key, fallback);
  }

  registerCommand(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable {
    const d = registerSafeCommand(this.log, id, handler, commandTitle(this.extension, id));
    this.extension.subscriptions.push(d);
    return d;
  }

  /** PanelServices: a webview's feature-private request. */
  webviewRequest(stored: StoredResult, method: string, params: unknown): Promise<unknown> {
    const handler = this.webviewHandlers.get(stored.kind);
    if (!handler) return Promise.reject(new Error(`No handler for ${stored.kind} panel requests (${method})`));
    return handler(method, params, stored);
  }

  /** PanelServices: re-runs a panel's result with its prompt's current text, in place. */
  async rerun(panel: ResultPanel): Promise<void> {
    const stored = panel.stored;
    const prompt = await panel.link.currentPrompt();
    if (stored.prompt && !prompt) {
      const message = `the prompt of "${stored.title}" is no longer in ${vscode.Uri.parse(stored.prompt.uri).fsPath}`;
      panel.post({ type: 'error', message: `Cannot re-run: ${message}` });
      reportError(this.log, 'Re-run', new Error(message));
      return;
    }
    const handler = this.rerunHandlers.get(stored.kind);
    const title = `Re-running ${stored.title}`;
    let next: NewResult;
    try {
      next = await this.progressNotification(title, (opts) => {
        const relay: Required<RequestOptions> = {
          token: opts.token,
          onProgress: (p) => {
            opts.onProgress(p);
            panel.post({ type: 'progress', fraction: p.fraction, message: p.message, partial: p.partial });
          },
        };
        panel.post({ type: 'progress', fraction: 0, message: 'Re-running…' });
        return handler ? handler(stored, prompt?.ref, relay) : this.defaultRerun(stored, prompt, relay);
      });
    } catch (e) {
      if (isCancellation(e)) panel.post({ type: 'progress', fraction: 1, message: 'Re-run cancelled' });
      else panel.post({ type: 'error', message: `Re-run failed: ${e instanceof Error ? e.message : String(e)}` });
      reportError(this.log, title, e);
      return;
    }
    panel.setResult(await this.store.update(stored.id, { ...next, prompt: next.prompt ?? stored.prompt }));
  }

  private async defaultRerun(stored: StoredResult, prompt: { ref: PromptRef; startOffset: number } | undefined, opts: Required<RequestOptions>): Promise<NewResult> {
    const model = await this.models.ensureModel();
    const params: Record<string, unknown> = { ...(stored.request.params as Record<string, unknown>) };
    if ('modelId' in params) params.modelId = model.id;
    if (prompt && typeof params.text === 'string') params.text = prompt.ref.text;
    const method = stored.request.method;
    const result = await this.request(method, params as ParamsOf<typeof method>, opts);
    let tokens = stored.tokens;
    if (prompt && typeof params.text === 'string') {
      const fromResult = (result as { tokens?: unknown } | undefined)?.tokens;
      tokens = Array.isArray(fromResult)
        ? (fromResult as TokenSpan[])
        : (await this.client.request('model/tokenize', { modelId: model.id, text: params.text, chatTemplate: params.chatTemplate === true }, { token: opts.token })).tokens;
    }
    return {
      kind: stored.kind,
      title: stored.title,
      modelId: model.id,
      modelName: model.name,
      prompt: prompt ? { uri: prompt.ref.uri.toString(), startOffset: prompt.startOffset, text: prompt.ref.text } : stored.prompt,
      tokens,
      request: { method, params },
      result,
    };
  }

  dispose(): void {
    this.panels.dispose();
  }
}
