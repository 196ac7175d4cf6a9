// Runs probe fitting in a worker thread so the sidecar stays responsive (cancel = terminate).
// From source (under tsx) the worker is fitWorker.ts, loaded through tsx's CommonJS hook; in the bundle
// it is probe-worker.js next to the sidecar (an esbuild entry). A bundle built without that entry fits
// in the sidecar's own thread instead (cancellable between layers) rather than failing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runFits, type FitJob, type FitOutput } from './fit';
import type { FitWorkerMessage } from './fitWorker';

/** The worker script: the TypeScript source under tsx, the bundled file otherwise. */
function fitWorkerScript(): { path: string; fromSource: boolean } {
  const fromSource = __filename.endsWith('.ts');
  return { path: join(__dirname, fromSource ? 'fitWorker.ts' : 'probe-worker.js'), fromSource };
}

export function fitInWorker(job: FitJob, opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<FitOutput> {
  const script = fitWorkerScript();
  if (!existsSync(script.path)) return runFits(job, opts.onProgress, opts.signal);
  return new Promise<FitOutput>((resolve, reject) => {
    opts.signal?.throwIfAborted();
    const worker = script.fromSource
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script.path)});`, { eval: true, workerData: job })
      : new Worker(script.path, { workerData: job });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => finish(() => reject(opts.signal!.reason ?? new Error('cancelled')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FitWorkerMessage) => {
      if (m.type === 'progress') opts.onProgress?.(m.done, m.total);
      else if (m.type === 'done') finish(() => resolve(m.output));
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the probe fitting worker exited (code ${code})`))));
  });
}
