// The sidecar's JSON-RPC server: a typed handler registry on a vscode-jsonrpc connection, with
// cancellation, progress, stable error codes and a clean shutdown.
//
// Handler API for feature modules (native/handlers/<feature>.ts export `register(server)`):
//
//   export function register(server: SidecarServer): void {
//     server.handle('decode/layers', async (params, ctx) => {
//       const model = ctx.models.get(params.modelId);      // LoadedModel, or a MODEL_NOT_LOADED error
//       const { ids, tokens } = model.encode(params);       // text/ids (+ chat template) -> ids + TokenSpan[],
//                                                           // PROMPT_TOO_LONG past the context window
//       model.engine;                                       // the Engine (native/engine/api.ts)
//       model.info; model.folder; model.tokenizer;          // ModelInfo, folder path, ModelTokenizer
//       model.config; model.contextLength;                  // config.json / genai_config.json values
//       await model.engine.forward(ids, { signal: ctx.signal });  // pass ctx.signal to long work
//       model.topTokens(await model.nextLogits(ids, { plan, signal: ctx.signal }), 5);  // next-token top-k
//       ctx.progress(0.5, 'layer 3 of 6', partialResult);   // sent only when params.progressToken is set
//       ctx.log('…');                                       // stderr (stdout carries the protocol)
//       return result;                                      // typed by protocol/rpc.ts SidecarMethods
//     });
//   }
//
// Params and results are typed by the method name. Throw ModelError(code, message) (native/onnx/errors)
// for bad input: the host receives a ResponseError whose data is SidecarErrorData { code, detail }.
// When the host cancels a request, ctx.signal aborts; an error thrown after that reads CANCELLED. When the
// model is unloaded meanwhile, ctx.signal aborts too and the request fails with MODEL_NOT_LOADED.
import type { CancellationToken, MessageConnection } from 'vscode-jsonrpc';
import { PROGRESS_NOTIFICATION, type ParamsOf, type ProgressParams, type ResultOf, type SidecarMethod, type WithProgress } from '../../protocol';
import { sidecarError, toResponseError } from './errors';
import { ModelRegistry, type ModelRegistryOptions, type ModelScope } from './models';

export type { ModelScope } from './models';
/** A ResponseError with a stable SidecarErrorCode, for handlers that build one themselves. */
export { sidecarError } from './errors';

/** What a handler gets besides its params. */
export interface HandlerContext {
  /** Aborts when the host cancels the request (or the sidecar shuts down). */
  signal: AbortSignal;
  /** Report progress: fraction 0..1 when known, a message, a feature-specific partial result. */
  progress(fraction?: number, message?: string, partial?: unknown): void;
  /** The loaded models (a model got here counts as in use until the request ends). */
  models: ModelScope;
  /** Write a line to the sidecar's log (stderr). */
  log(message: string): void;
}

export type Handler<M extends SidecarMethod> = (params: ParamsOf<M> & WithProgress, ctx: HandlerContext) => Promise<ResultOf<M>>;

export interface SidecarServerOptions extends ModelRegistryOptions {
  /** Where log lines go (default: stderr). */
  log?: (message: string) => void;
}

export class SidecarServer {
  readonly models: ModelRegistry;
  private readonly handlers = new Map<string, Handler<SidecarMethod>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: (message: string) => void;

  constructor(opts: SidecarServerOptions = {}) {
    this.models = new ModelRegistry(opts);
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  /** Register the handler of one method (once per method). */
  handle<M extends SidecarMethod>(method: M, handler: Handler<M>): void {
    if (this.handlers.has(method)) throw new Error(`handler for ${method} registered twice`);
    this.handlers.set(method, handler as unknown as Handler<SidecarMethod>);
  }

  /** Methods with a handler. */
  get methods(): string[] {
    return [...this.handlers.keys()];
  }

  /**
   * Serve requests on `connection` until it closes; then wait for requests still running, unload every
   * model and resolve.
   */
  async listen(connection: MessageConnection): Promise<void> {
    for (const [method, handler] of this.handlers) {
      // vscode-jsonrpc passes (params, token), or only (token) when the request has no params.
      connection.onRequest(method, (...args: unknown[]) => {
        const token = args.at(-1) as CancellationToken;
        return this.run(connection, method, handler, args.length > 1 ? args[0] : undefined, token);
      });
    }
    const closed = new Promise<void>((resolve) => connection.onClose(() => resolve()));
    connection.listen();
    await closed;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.models.disposeAll();
  }

  private run(connection: MessageConnection, method: string, handler: Handler<SidecarMethod>, params: unknown, token: CancellationToken): Promise<unknown> {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const progressToken = (params as WithProgress | null | undefined)?.progressToken;
    const models = this.models.scope(abort);
    const ctx: HandlerContext = {
      signal: abort.signal,
      models,
      log: this.log,
      progress: (fraction, message, partial) => {
        if (typeof progressToken !== 'string') return;
        const p: ProgressParams = { token: progressToken, fraction, message, partial };
        try {
          connection.sendNotification(PROGRESS_NOTIFICATION, p).catch(() => {});
        } catch {
          // the host is gone (stdin closed): the request still finishes
        }
      },
    };
    const started = performance.now();
    const work = (async () => {
      const p = params ?? {};
      if (typeof p !== 'object' || Array.isArray(p)) throw sidecarError('BAD_REQUEST', `${method} takes its params as an object`);
      return handler(p as ParamsOf<SidecarMethod>, ctx);
    })()
      .catch((e) => {
        const err = toResponseError(e, abort.signal);
        if (err.data?.code === 'INTERNAL') this.log(`${method} failed: ${err.data.detail ?? err.message}`);
        throw err;
      })
      .finally(() => {
        sub.dispose();
        models.release();
        this.inFlight.delete(work);
        this.log(`${method} ${abort.signal.aborted ? 'cancelled' : 'done'} in ${(performance.now() - started).toFixed(0)} ms`);
      });
    this.inFlight.add(work);
    return work;
  }
}
