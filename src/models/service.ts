// The loaded model: loading (configured path, demo model, a picked folder), reloading after a
// sidecar restart, workspace-trust gate, and change events for the side panel and status bar.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol';
import { affects, settings } from '../config';
import { reportError } from '../errors';
import type { SidecarClient } from '../sidecar/client';

export class ModelService implements vscode.Disposable {
  private loaded: ModelInfo | undefined;
  /** The sidecar generation the model was loaded in: a restarted sidecar has lost it. */
  private loadedGeneration = -1;
  private lastPath: string | undefined;
  private loading: Promise<ModelInfo> | undefined;
  private readonly changed = new vscode.EventEmitter<ModelInfo | undefined>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** Fires after a load, and with undefined when the sidecar lost the model. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly client: SidecarClient,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      client.onDidStop(() => {
        if (this.loaded) this.changed.fire(undefined);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChange(e)),
    );
  }

  /** A new provider reloads the loaded model; a new model path loads it if a model is loaded. */
  private onConfigChange(e: vscode.ConfigurationChangeEvent): void {
    if (!this.current || !vscode.workspace.isTrusted) return;
    let path: string | undefined;
    if (affects(e, 'modelPath') && settings().modelPath) path = settings().modelPath;
    else if (affects(e, 'executionProvider')) path = this.lastPath;
    if (!path) return;
    this.load(path).catch((err: unknown) => reportError(this.log, 'Reloading the model', err));
  }

  /** The model loaded in the running sidecar, if any. */
  get current(): ModelInfo | undefined {
    return this.loaded && this.loadedGeneration === this.client.generation && this.client.isRunning ? this.loaded : undefined;
  }

  /** The last model loaded, even if the sidecar has since stopped (for display). */
  get last(): ModelInfo | undefined {
    return this.loaded;
  }

  /** The demo model folder shipped with the extension, if present. */
  demoModelPath(): string | undefined {
    const p = vscode.Uri.joinPath(this.extensionUri, 'demo', 'model').fsPath;
    return fs.existsSync(p) ? p : undefined;
  }

  /** Loads a model folder (or .onnx file) in the sidecar, with a progress notification. */
  async load(path: string): Promise<ModelInfo> {
    assertTrusted();
    const provider = settings().executionProvider;
    const loaded = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `layerlens: loading ${path}` },
      () => this.client.request('model/load', { path, provider }),
    );
    // The bundled model's folder is just "model": name it for the status bar, views and results.
    const info = path === this.demoModelPath() ? { ...loaded, name: 'demo model' } : loaded;
    this.loaded = info;
    this.loadedGeneration = this.client.generation;
    this.lastPath = path;
    this.log.info(`model loaded: ${info.name} (${info.id}) from ${info.path} on ${info.provider}${info.providerNote ? ` (${info.providerNote})` : ''}`);
    void vscode.commands.executeCommand('setContext', 'layerlens.modelLoaded', true);
    this.changed.fire(info);
    return info;
  }

  /** The loaded model; else loads the last one, the configured one, or the demo model. */
  async ensureModel(): Promise<ModelInfo> {
    const current = this.current;
    if (current) return current;
    this.loading ??= this.load(this.defaultPath()).finally(() => (this.loading = undefined));
    return this.loading;
  }

  /**
   * If `params` names a model the sidecar lost in a restart, reloads it and returns params with the
   * new model id; otherwise returns params unchanged.
   */
  async refreshModelId<P>(params: P): Promise<P> {
    const modelId = (params as { modelId?: unknown } | undefined)?.modelId;
    if (typeof modelId !== 'string' || !this.loaded || modelId !== this.loaded.id || this.current) return params;
    const info = await this.ensureModel();
    return { ...params, modelId: info.id };
  }

  private defaultPath(): string {
    const path = this.lastPath || settings().modelPath || this.demoModelPath();
    if (!path) {
      throw new Error('No model to load: set "layerlens.modelPath" or run "layerlens: Open Model Folder…" (the demo model is not bundled in this build).');
    }
    return path;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Model loading runs onnxruntime on files from disk: refused in untrusted workspaces. */
export function assertTrusted(): void {
  if (!vscode.workspace.isTrusted) {
    throw new Error('layerlens cannot load a model in an untrusted workspace: a model folder makes onnxruntime read and run files from disk. Trust the workspace to enable it.');
  }
}
