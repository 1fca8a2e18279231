/** The worker's errors: a protocol error code for the UI and a technical detail. */
import type { ErrorCode } from '../../src/core/protocol.ts';

export class WorkerError extends Error {
  override name = 'WorkerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
