/** Progress of a long request, sent by the sidecar as a notification keyed by the request's progress token. */
export interface ProgressParams {
  token: string;
  /** 0..1 when known. */
  fraction?: number;
  message?: string;
  /** Partial result so far (feature specific), so the UI can show results as they arrive. */
  partial?: unknown;
}
export const PROGRESS_NOTIFICATION = 'layerlens/progress';

/** Errors the sidecar reports with a stable code, so the host can show a clear message. */
export type SidecarErrorCode =
  | 'NOT_ONNX'
  | 'TRUNCATED_MODEL'
  | 'MISSING_EXTERNAL_DATA'
  | 'EXTERNAL_DATA_OUTSIDE_FOLDER'
  | 'CONFIG_MISMATCH'
  | 'MISSING_CONFIG'
  | 'MISSING_TOKENIZER'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'PROMPT_TOO_LONG'
  | 'MODEL_TOO_LARGE'
  | 'MODEL_NOT_LOADED'
  | 'BAD_REQUEST'
  | 'BAD_DATASET'
  | 'CANCELLED'
  | 'INTERNAL';

export interface SidecarErrorData {
  code: SidecarErrorCode;
  detail?: string;
}
