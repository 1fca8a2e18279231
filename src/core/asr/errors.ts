/** The pipeline's own error (bad audio, a model that cannot load or warm up), with a protocol error code. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    readonly code: 'MODEL_LOAD_FAILED' | 'WARMUP_FAILED' | 'BAD_AUDIO' | 'NON_FINITE',
    message: string,
  ) {
    super(message);
  }
}
