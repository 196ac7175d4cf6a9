// The sidecar process: serves the layerlens JSON-RPC protocol over stdio (stdout carries only protocol
// messages; logs go to stderr) and exits once stdin closes and the requests still running have finished.
// Environment: LAYERLENS_MEMORY_LIMIT_BYTES, models larger than this are refused (default: total memory).
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

/** LAYERLENS_MEMORY_LIMIT_BYTES lowers the size above which models are refused (default: total memory). */
function memoryLimit(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`layerlens sidecar: ignoring LAYERLENS_MEMORY_LIMIT_BYTES=${value} (not a positive number)`);
    return undefined;
  }
  return n;
}

async function main(): Promise<void> {
  const server = new SidecarServer({ memoryLimitBytes: memoryLimit(process.env.LAYERLENS_MEMORY_LIMIT_BYTES) });
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
