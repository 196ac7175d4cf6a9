// The real sidecar server (every handler registered) on in-memory streams, with a typed client:
// lets unit tests drive the JSON-RPC surface exactly as the extension host does, without a process.
import { PassThrough } from 'node:stream';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type CancellationTokenSource } from 'vscode-jsonrpc/node';
import { PROGRESS_NOTIFICATION, type ParamsOf, type ProgressParams, type ResultOf, type SidecarErrorData, type SidecarMethod } from '../../../protocol';
import { registerAll } from '../../../native/handlers';
import { SidecarServer } from '../../../native/server';

export interface InMemorySidecar {
  /** A typed request; cancellable through `cancel`. */
  call<M extends SidecarMethod>(method: M, params: ParamsOf<M>, cancel?: CancellationTokenSource): Promise<ResultOf<M>>;
  /** Every progress notification received so far. */
  readonly progress: ProgressParams[];
  close(): Promise<void>;
}

export function startInMemorySidecar(): InMemorySidecar {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = new SidecarServer({ log: () => {} });
  registerAll(server);
  const served = server.listen(createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down)));
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  const progress: ProgressParams[] = [];
  client.onNotification(PROGRESS_NOTIFICATION, (p: ProgressParams) => progress.push(p));
  client.listen();
  return {
    call: (method, params, cancel) =>
      (cancel ? client.sendRequest(method, params, cancel.token) : client.sendRequest(method, params)) as Promise<never>,
    progress,
    async close() {
      client.dispose();
      await served;
    },
  };
}

/** The sidecar error a request ended with, or undefined when it succeeded. */
export async function errorOf(p: Promise<unknown>): Promise<SidecarErrorData | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!(e instanceof ResponseError)) throw e;
    return e.data as SidecarErrorData;
  }
}
