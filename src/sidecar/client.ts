// The sidecar process from the host's side: spawn, typed JSON-RPC requests, progress relay,
// cancellation, crash notice and lazy restart. Free of `vscode` so it can be tested under plain Node.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  Emitter,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
  type CancellationToken,
  type Event,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
  PROGRESS_NOTIFICATION,
  type ParamsOf,
  type ProgressParams,
  type ResultOf,
  type SidecarErrorCode,
  type SidecarErrorData,
  type SidecarMethod,
} from '../../protocol';

/** How to start the sidecar: in VS Code `process.execPath out/sidecar.js` with ELECTRON_RUN_AS_NODE=1. */
export interface SidecarLaunch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface SidecarLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** One line of the sidecar's stderr. */
  trace(msg: string): void;
}

export interface SidecarRequestOptions {
  /** vscode.CancellationToken is structurally compatible. */
  token?: CancellationToken;
  onProgress?: (p: ProgressParams) => void;
}

/** Why the sidecar stopped: an exit code, a signal, or a spawn error. */
export interface SidecarStop {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we stopped it ourselves (restart, dispose). */
  expected: boolean;
  error?: string;
}

/** A failed sidecar request, with the sidecar's stable error code when it sent one. */
export class SidecarError extends Error {
  constructor(
    message: string,
    readonly code: SidecarErrorCode | 'SIDECAR_STOPPED',
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'SidecarError';
  }
}

/** Turns a stop into the message users see. */
export function describeStop(stop: SidecarStop): string {
  const why = stop.error
    ? stop.error
    : stop.signal
      ? `signal ${stop.signal}`
      : `exit code ${stop.code ?? 'unknown'}`;
  return `layerlens sidecar stopped (${why}); it will restart on the next request`;
}

/** Turns anything a request rejected with into a SidecarError with a readable message. */
export function toSidecarError(e: unknown, method: string): SidecarError {
  if (e instanceof SidecarError) return e;
  if (e instanceof ResponseError) {
    const data = e.data as Partial<SidecarErrorData> | undefined;
    if (data && typeof data.code === 'string') return new SidecarError(e.message, data.code as SidecarErrorCode, data.detail);
    if (e.code === -32800) return new SidecarError(`${method} was cancelled`, 'CANCELLED');
    return new SidecarError(e.message, 'INTERNAL');
  }
  return new SidecarError(e instanceof Error ? e.message : String(e), 'INTERNAL');
}

interface Running {
  child: ChildProcess;
  connection: MessageConnection;
  /** Rejects every pending request when the process stops. */
  stopped: Promise<never>;
  expectedStop: boolean;
}

export class SidecarClient {
  private running: Running | undefined;
  private starting: Promise<Running> | undefined;
  private readonly progress = new Map<string, (p: ProgressParams) => void>();
  private readonly stopEmitter = new Emitter<SidecarStop>();
  private readonly startEmitter = new Emitter<number>();
  private generationCount = 0;
  private disposed = false;

  /** Fires when the process stops (crash, kill, restart). */
  readonly onDidStop: Event<SidecarStop> = this.stopEmitter.event;
  /** Fires with the pid when a process has started. */
  readonly onDidStart: Event<number> = this.startEmitter.event;

  constructor(
    private readonly launch: SidecarLaunch,
    private readonly log: SidecarLogger,
  ) {}

  /** The running process id, if any. */
  get pid(): number | undefined {
    return this.running?.child.pid;
  }

  /** Increments on every start: state held by the sidecar (loaded models) belongs to one generation. */
  get generation(): number {
    return this.generationCount;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Typed request; starts the sidecar if needed. Rejects with a SidecarError. */
  async request<M extends SidecarMethod>(method: M, params: ParamsOf<M>, opts: SidecarRequestOptions = {}): Promise<ResultOf<M>> {
    if (opts.token?.isCancellationRequested) throw new SidecarError(`${method} was cancelled`, 'CANCELLED');
    const run = await this.start();
    const progressToken = opts.onProgress ? randomUUID() : undefined;
    if (progressToken && opts.onProgress) this.progress.set(progressToken, opts.onProgress);
    const wire = progressToken ? { ...(params as object), progressToken } : params;
    // Cancelling sends $/cancelRequest to the sidecar and settles at once: a sidecar that is slow to
    // notice does not keep the user waiting (its late answer is dropped).
    let onCancel: { dispose(): void } | undefined;
    const cancelled = new Promise<never>((_, reject) => {
      onCancel = opts.token?.onCancellationRequested(() => reject(new SidecarError(`${method} was cancelled`, 'CANCELLED')));
    });
    try {
      const pending = run.connection.sendRequest<ResultOf<M>>(method, wire, opts.token);
      return await Promise.race([pending, run.stopped, cancelled]);
    } catch (e) {
      if (opts.token?.isCancellationRequested) throw new SidecarError(`${method} was cancelled`, 'CANCELLED');
      throw toSidecarError(e, method);
    } finally {
      onCancel?.dispose();
      if (progressToken) this.progress.delete(progressToken);
    }
  }

  /** Starts the process (once); concurrent callers share the start. */
  start(): Promise<Running> {
    if (this.disposed) return Promise.reject(new SidecarError('layerlens sidecar is shut down', 'SIDECAR_STOPPED'));
    if (this.running) return Promise.resolve(this.running);
    this.starting ??= this.spawnProcess().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Stops the process; the next request starts a fresh one. */
  async stop(): Promise<void> {
    const run = this.running ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    if (!run) return;
    run.expectedStop = true;
    const exited = new Promise<void>((resolve) => run.child.once('exit', () => resolve()));
    run.connection.dispose();
    run.child.stdin?.end();
    run.child.kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.running === run) run.child.kill('SIGKILL');
  }

  async restart(): Promise<number | undefined> {
    await this.stop();
    const run = await this.start();
    return run.child.pid;
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.disposed = true;
    this.stopEmitter.dispose();
    this.startEmitter.dispose();
  }

  private spawnProcess(): Promise<Running> {
    return new Promise<Running>((resolve, reject) => {
      const { command, args, env, cwd } = this.launch;
      const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let rejectStopped!: (e: Error) => void;
      const stopped = new Promise<never>((_, rej) => (rejectStopped = rej));
      stopped.catch(() => undefined);
      const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
      const run: Running = { child, connection, stopped, expectedStop: false };
      connection.onNotification(PROGRESS_NOTIFICATION, (p: ProgressParams) => this.progress.get(p.token)?.(p));
      connection.onError(([err]) => this.log.warn(`sidecar connection: ${err.message}`));
      child.stderr!.setEncoding('utf8');
      let stderrTail = '';
      child.stderr!.on('data', (chunk: string) => {
        const lines = (stderrTail + chunk).split('\n');
        stderrTail = lines.pop() ?? '';
        for (const line of lines) if (line) this.log.trace(`[sidecar] ${line}`);
      });
      let settled = false;
      let ended = false;
      const finish = (stop: Omit<SidecarStop, 'expected' | 'pid'>) => {
        if (ended) return;
        ended = true;
        if (stderrTail) this.log.trace(`[sidecar] ${stderrTail}`);
        stderrTail = '';
        const info: SidecarStop = { ...stop, pid: child.pid, expected: run.expectedStop };
        const message = describeStop(info);
        rejectStopped(new SidecarError(message, 'SIDECAR_STOPPED'));
        connection.dispose();
        if (this.running === run) this.running = undefined;
        if (!settled) {
          settled = true;
          reject(new SidecarError(`layerlens sidecar failed to start: ${stop.error ?? (stop.signal ? `signal ${stop.signal}` : `exit code ${stop.code}`)}`, 'SIDECAR_STOPPED'));
        }
        (info.expected ? this.log.info : this.log.error).call(this.log, message);
        this.stopEmitter.fire(info);
      };
      child.once('error', (err) => finish({ code: null, signal: null, error: err.message }));
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('spawn', () => {
        if (settled) return;
        settled = true;
        connection.listen();
        this.running = run;
        this.generationCount++;
        this.log.info(`layerlens sidecar started, pid ${child.pid}`);
        this.startEmitter.fire(child.pid!);
        resolve(run);
      });
    });
  }
}
