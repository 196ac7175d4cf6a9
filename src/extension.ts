// Extension entry: wires the sidecar client, model service, result store, panels, side views,
// status bar, prompt CodeLens, shell commands and the bundled features.
import * as vscode from 'vscode';
import { shellCommands } from './commands';
import { commandTitle, registerSafeCommand } from './errors';
import { features } from './features';
import type { FeatureContext } from './features/api';
import { ShellContext } from './features/context';
import { ModelService } from './models/service';
import { PROMPT_COMMANDS, PROMPT_SELECTOR, PromptCodeLensProvider } from './prompts/codelens';
import { documentKind } from './prompts/resolve';
import { ResultStore } from './results/store';
import type { Services } from './services';
import { SidecarClient, describeStop } from './sidecar/client';
import { StatusDisplay } from './status';
import { AnalysesView } from './views/analysesView';
import { ModelView } from './views/modelView';

let client: SidecarClient | undefined;

/** What activate returns (vscode.extensions.getExtension(…).exports): for tests and other extensions. */
export interface LayerlensApi {
  /** The same FeatureContext the features get: lets tests create results and panels. */
  readonly context: FeatureContext;
}

export async function activate(extension: vscode.ExtensionContext): Promise<LayerlensApi> {
  const log = vscode.window.createOutputChannel('layerlens', { log: true });
  const subs = extension.subscriptions;
  subs.push(log);

  client = new SidecarClient(
    {
      command: process.execPath,
      args: [vscode.Uri.joinPath(extension.extensionUri, 'out', 'sidecar.js').fsPath],
      env: { ELECTRON_RUN_AS_NODE: '1' },
      cwd: extension.extensionUri.fsPath,
    },
    // The sidecar's stderr at info level: a crash's stack trace must show in the default log view.
    { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m), trace: (m) => log.info(m) },
  );
  const sidecar = client;
  subs.push(
    sidecar.onDidStop((stop) => {
      if (!stop.expected) void vscode.window.showWarningMessage(describeStop(stop), 'Show Log').then((pick) => pick && log.show());
    }),
  );

  const store = new ResultStore(vscode.Uri.joinPath(extension.storageUri ?? extension.globalStorageUri, 'results').fsPath);
  const models = new ModelService(sidecar, extension.extensionUri, log);
  const context = new ShellContext(extension, sidecar, models, store, log);
  const status = new StatusDisplay(models, sidecar);
  const codeLens = new PromptCodeLensProvider();
  subs.push({ dispose: () => store.dispose() }, models, context, status, codeLens);

  subs.push(
    vscode.window.createTreeView('layerlens.model', { treeDataProvider: track(subs, new ModelView(models)), showCollapseAll: true }),
    vscode.window.createTreeView('layerlens.analyses', { treeDataProvider: track(subs, new AnalysesView(store)) }),
    vscode.languages.registerCodeLensProvider(PROMPT_SELECTOR, codeLens),
    vscode.workspace.onDidGrantWorkspaceTrust(() => codeLens.refresh()),
    vscode.window.onDidChangeActiveTextEditor((e) => setPromptContext(e)),
  );
  setPromptContext(vscode.window.activeTextEditor);

  const services: Services = { extension, log, client: sidecar, models, store, context, status, features: Object.keys(features) };
  for (const cmd of shellCommands) {
    subs.push(registerSafeCommand(log, cmd.id, (...args) => cmd.run(services, ...args), commandTitle(extension, cmd.id)));
  }

  for (const [name, feature] of Object.entries(features)) {
    try {
      await feature.activate(context);
      log.info(`feature ${name} activated`);
    } catch (e) {
      log.error(`feature ${name} failed to activate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  await registerMissingFeatureCommands(extension, log);
  log.info(`layerlens activated (features: ${Object.keys(features).join(', ') || 'none'})`);
  return { context };
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}

function track<T extends vscode.Disposable>(subs: vscode.Disposable[], d: T): T {
  subs.push(d);
  return d;
}

/** Feature commands declared in package.json but not bundled: say so instead of "command not found". */
async function registerMissingFeatureCommands(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<void> {
  const registered = new Set(await vscode.commands.getCommands(true));
  for (const { command, title } of PROMPT_COMMANDS) {
    if (registered.has(command)) continue;
    extension.subscriptions.push(
      vscode.commands.registerCommand(command, () => {
        void vscode.window.showWarningMessage(`layerlens: "${title}" is not available in this build.`);
      }),
    );
    log.warn(`${command}: no feature registered it; a placeholder explains it is unavailable`);
  }
}

/** Context key for the walkthrough's "open a prompt" step. */
function setPromptContext(editor: vscode.TextEditor | undefined): void {
  const kind = editor ? documentKind(editor.document) : undefined;
  void vscode.commands.executeCommand('setContext', 'layerlens.promptOpen', kind !== undefined);
}
