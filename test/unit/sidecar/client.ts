// Test client: spawns the sidecar from source (node --import tsx native/sidecar.ts) and talks JSON-RPC to
// it with vscode-jsonrpc, as the extension host does.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CancellationTokenSource, createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { PROGRESS_NOTIFICATION, type ParamsOf, type ProgressParams, type ResultOf, type SidecarMethod } from '../../../protocol';
import { REPO } from '../model/helpers';

export interface TestSidecar {
  child: ChildProcess;
  connection: MessageConnection;
  /** Typed request; `cancel` cancels it from the client side. */
  request<M extends SidecarMethod>(method: M, params: ParamsOf<M>, cancel?: CancellationTokenSource): Promise<ResultOf<M>>;
  /** Progress notifications received so far, by token. */
  progress: Map<string, ProgressParams[]>;
  /** Called on every progress notification. */
  onProgress?: (p: ProgressParams) => void;
  /** Resolves with the exit code (or signal) once the process ends. */
  exited: Promise<number | string>;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Start a sidecar; `env` is added to this process's environment. */
export function startSidecar(env: Record<string, string> = {}): TestSidecar {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'native/sidecar.ts')], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const sidecar: TestSidecar = {
    child,
    connection,
    progress: new Map(),
    exited,
    stderr: () => stderr,
    request: (method, params, cancel) => connection.sendRequest(method, params, cancel?.token),
    async stop() {
      connection.dispose();
      child.stdin!.end();
      await exited;
    },
  };
  connection.onNotification(PROGRESS_NOTIFICATION, (p: ProgressParams) => {
    const list = sidecar.progress.get(p.token) ?? [];
    list.push(p);
    sidecar.progress.set(p.token, list);
    sidecar.onProgress?.(p);
  });
  // As the host does: when the process has ended (and its output is read), pending requests are rejected.
  child.on('close', () => connection.dispose());
  connection.listen();
  return sidecar;
}

/** The sidecar's error data of a rejected request. */
export function errorOf(e: unknown): { rpcCode: number; code?: string; message: string } {
  const err = e as { code: number; message: string; data?: { code?: string } };
  return { rpcCode: err.code, code: err.data?.code, message: err.message };
}
