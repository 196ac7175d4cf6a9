// Worker-thread entry: runs one FitJob and posts progress, then the result (or the error).
import { parentPort, workerData } from 'node:worker_threads';
import { runFits, type FitJob } from './fit';

export type FitWorkerMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; output: Awaited<ReturnType<typeof runFits>> }
  | { type: 'error'; message: string };

const post = (m: FitWorkerMessage) => parentPort!.postMessage(m);
runFits(workerData as FitJob, (done, total) => post({ type: 'progress', done, total })).then(
  (output) => post({ type: 'done', output }),
  (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
);
