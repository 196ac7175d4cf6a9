// The sidecar process: serves the layerlens JSON-RPC protocol over stdio (stdout carries only protocol
// messages; logs go to stderr) and exits once stdin closes and the requests still running have finished.
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type Message } from 'vscode-jsonrpc/node';
import { registerAll } from './handlers';
import { SidecarServer } from './server';

// Anything printed by a dependency must not corrupt the protocol stream.
console.log = console.info = console.debug = console.error;

/** A stdout writer that can wait until every message handed to it has been written. */
class DrainableWriter extends StreamMessageWriter {
  private readonly pending = new Set<Promise<void>>();

  override write(msg: Message): Promise<void> {
    const p = super.write(msg).finally(() => this.pending.delete(p));
    this.pending.add(p);
    return p;
  }

  async drain(): Promise<void> {
    // Replies are handed to the writer a few ticks after their handler settles.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

// A stray error outside a request is logged, not fatal: loaded models and other requests carry on.
process.on('uncaughtException', (e) => console.error(`layerlens sidecar: uncaught ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => console.error(`layerlens sidecar: unhandled rejection ${(e as Error)?.stack ?? e}`));

async function main(): Promise<void> {
  const server = new SidecarServer();
  registerAll(server);
  const writer = new DrainableWriter(process.stdout);
  const connection = createMessageConnection(new StreamMessageReader(process.stdin), writer);
  console.error(`layerlens sidecar ${process.pid} ready`);
  await server.listen(connection);
  await writer.drain();
  process.exit(0);
}

main().catch((e) => {
  console.error(`layerlens sidecar failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
