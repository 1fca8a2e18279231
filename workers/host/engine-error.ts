/** The worker's errors: a protocol error code for the UI and a technical detail. */
import type { ErrorCode } from '../../src/core/protocol.ts';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
