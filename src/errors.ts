// One way to report failures: log, then a clear error message; cancellations stay silent.
import * as vscode from 'vscode';
import { SidecarError } from './sidecar/client';

/** True for a user cancellation (nothing to report). */
export function isCancellation(e: unknown): boolean {
  return (e instanceof SidecarError && e.code === 'CANCELLED') || (e instanceof vscode.CancellationError);
}

/**
 * Logs `e` and shows it as "layerlens: <what> failed: <message>". Nothing is shown for cancellations,
 * nor for a sidecar stop (the stop itself is announced once, by the extension's stop listener).
 */
export function reportError(log: vscode.LogOutputChannel, what: string, e: unknown): void {
  if (isCancellation(e)) {
    log.info(`${what}: cancelled`);
    return;
  }
  if (e instanceof SidecarError && e.code === 'SIDECAR_STOPPED') {
    log.warn(`${what} failed: ${e.message}`);
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  const detail = e instanceof SidecarError && e.detail ? ` (${e.detail})` : '';
  log.error(`${what} failed: ${message}${detail}`);
  void vscode.window.showErrorMessage(`layerlens: ${what} failed: ${message}`, 'Show Log').then((pick) => {
    if (pick) log.show();
  });
}

/** Registers a command whose failures are reported by reportError. */
export function registerSafeCommand(
  log: vscode.LogOutputChannel,
  id: string,
  handler: (...args: unknown[]) => unknown,
  title = id,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (e) {
      reportError(log, title, e);
      return undefined;
    }
  });
}

/** A contributed command's title (package.json), for messages. */
export function commandTitle(extension: vscode.ExtensionContext, id: string): string {
  const commands = (extension.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } }).contributes?.commands;
  return commands?.find((c) => c.command === id)?.title ?? id;
}
