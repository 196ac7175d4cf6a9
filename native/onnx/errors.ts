// Errors with a stable code (protocol SidecarErrorCode) so the sidecar can report them clearly.
import type { SidecarErrorCode } from '../../protocol';

/** An Error carrying a `code` the sidecar maps to a SidecarErrorCode. */
export class ModelError extends Error {
  constructor(
    readonly code: SidecarErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}
