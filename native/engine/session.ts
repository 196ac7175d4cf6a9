// onnxruntime session creation with execution-provider selection and CPU fallback.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../onnx/model';
import { DT } from '../onnx/tensor';

/** Intra-op threads per session: min(4, CPU count). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.cpus().length));
}

export type ProviderRequest = 'cpu' | 'webgpu' | 'cuda' | 'auto';
export type ProviderName = 'cpu' | 'webgpu' | 'cuda';

export interface SessionFactory {
  provider: ProviderName;
  /** Why the requested provider was not used (absent when it was). */
  providerNote?: string;
  create(model: Uint8Array | string): Promise<ort.InferenceSession>;
}

/** Session options used for every stage and the monolithic reference. */
export function sessionOptions(provider: ProviderName, threads = defaultThreads()): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // no per-session arena: a dozen sessions each holding a peak-sized arena would multiply activation memory
    enableCpuMemArena: false,
    // many small sessions run one after another: spinning worker threads would steal the CPU from the next stage
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** A one-node float model (MatMul) to find out whether a provider can create a session at all. */
function probeModel(): Uint8Array {
  const info = (name: string) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 2 }] } } } });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'probe', node: [{ opType: 'MatMul', input: ['x', 'x'], output: ['y'] }], input: [info('x')], output: [info('y')] },
  });
}

/**
 * Pick a provider by creating a probe session with it: 'auto' tries cuda, then webgpu, then cpu; an explicit
 * non-CPU provider that fails falls back to CPU. The note says why.
 */
export async function sessionFactory(request: ProviderRequest, threads?: number): Promise<SessionFactory> {
  const n = threads ?? defaultThreads();
  const probe = probeModel();
  const tries: ProviderName[] = request === 'auto' ? ['cuda', 'webgpu'] : request === 'cpu' ? [] : [request];
  const notes: string[] = [];
  for (const p of tries) {
    try {
      const s = await ort.InferenceSession.create(probe, sessionOptions(p, n));
      await s.release();
      return { provider: p, create: (m) => (typeof m === 'string' ? ort.InferenceSession.create(m, sessionOptions(p, n)) : ort.InferenceSession.create(m, sessionOptions(p, n))) };
    } catch (e) {
      notes.push(`${p} unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return {
    provider: 'cpu',
    providerNote: notes.length ? `${notes.join('; ')}; using cpu` : undefined,
    create: (m) => (typeof m === 'string' ? ort.InferenceSession.create(m, sessionOptions('cpu', n)) : ort.InferenceSession.create(m, sessionOptions('cpu', n))),
  };
}
