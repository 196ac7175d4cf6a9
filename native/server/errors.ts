// Errors as the host receives them: a JSON-RPC ResponseError whose data carries a stable SidecarErrorCode.
import { ResponseError } from 'vscode-jsonrpc';
import type { SidecarErrorCode, SidecarErrorData } from '../../protocol';
import { ModelError } from '../onnx/errors';

/** JSON-RPC error numbers: the standard ones where they fit, -32001 (unknown) otherwise. */
const RPC_CODE: Partial<Record<SidecarErrorCode, number>> = {
  CANCELLED: -32800, // LSP RequestCancelled, which vscode-jsonrpc clients understand
  BAD_REQUEST: -32602, // InvalidParams
  INTERNAL: -32603, // InternalError
};

/** A ResponseError with a stable code; `detail` is extra text for logs (a stack for internal errors). */
export function sidecarError(code: SidecarErrorCode, message: string, detail?: string): ResponseError<SidecarErrorData> {
  return new ResponseError<SidecarErrorData>(RPC_CODE[code] ?? -32001, message, detail === undefined ? { code } : { code, detail });
}

/** Any error thrown by a handler, as a ResponseError; an aborted request reads CANCELLED. */
export function toResponseError(e: unknown, signal?: AbortSignal): ResponseError<SidecarErrorData> {
  if (e instanceof ResponseError) return e as ResponseError<SidecarErrorData>;
  // A request stopped by the sidecar itself (its model was unloaded) says why.
  if (signal?.aborted && signal.reason instanceof ModelError) return sidecarError(signal.reason.code, signal.reason.message);
  if (e instanceof ModelError) return sidecarError(e.code, e.message);
  if (signal?.aborted || (e instanceof Error && e.name === 'AbortError')) return sidecarError('CANCELLED', 'the request was cancelled');
  const err = e instanceof Error ? e : new Error(String(e));
  return sidecarError('INTERNAL', err.message, err.stack);
}
