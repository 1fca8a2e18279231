/**
 * Silero VAD (v5; v6 has the same interface) through our onnxruntime owner (../ort/runtime.ts), on the CPU provider
 * of whatever runtime it is given (the worker gives it its own WASM runtime, one thread).  The model file comes from
 * the `@ricky0123/vad-web` package, served from our origin; its JavaScript is not used.
 *
 * Per 512-sample frame at 16 kHz the model sees 576 samples: the last 64 of the previous frame, then the frame
 * (silero-vad's utils_vad.py OnnxWrapper), and carries a [2, 1, 128] state.  Inputs `input` [1, 576] float32,
 * `state`, `sr` int64 (16000); outputs `output` [1, 1] (speech probability) and `stateN`.
 */
import { SAMPLE_RATE_HZ } from '../constants.ts';
import { cpuFloat32, type OrtRuntime, type Session, type Tensor } from '../ort/runtime.ts';
import { VAD_FRAME_SAMPLES } from './segmenter.ts';

export const VAD_CONTEXT_SAMPLES = 64;
const STATE_DIMS = [2, 1, 128] as const;

/** One audio stream's VAD state (the model's [2, 1, 128] state and the previous frame's last 64 samples). */
export class VadStream {
  private state: Tensor;
  private readonly context = new Float32Array(VAD_CONTEXT_SAMPLES);
  private readonly input = new Float32Array(VAD_CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly session: Session,
    private readonly sr: Tensor,
  ) {
    this.state = runtime.float32(new Float32Array(2 * 128), STATE_DIMS);
  }

  /** Speech probability of the next 512-sample frame of this stream. */
  async probability(frame: Float32Array): Promise<number> {
    if (frame.length !== VAD_FRAME_SAMPLES)
      throw new Error(`VAD frames are ${VAD_FRAME_SAMPLES} samples, got ${frame.length}`);
    this.input.set(this.context, 0);
    this.input.set(frame, VAD_CONTEXT_SAMPLES);
    this.context.set(frame.subarray(VAD_FRAME_SAMPLES - VAD_CONTEXT_SAMPLES));
    const out = await this.runtime.run(this.session, {
      input: this.runtime.float32(this.input.slice(), [1, this.input.length]),
      state: this.state,
      sr: this.sr,
    });
    this.state = out['stateN']!;
    return cpuFloat32(out['output']!)[0]!;
  }
}

/** The loaded model: one session, any number of independent streams (one per recording). */
export class SileroVad {
  private readonly sr: Tensor;

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly session: Session,
  ) {
    this.sr = runtime.int64(BigInt64Array.of(BigInt(SAMPLE_RATE_HZ)), []);
  }

  /** `model`: the .onnx bytes (browser) or its path (Node). */
  static async load(runtime: OrtRuntime, model: Uint8Array | string): Promise<SileroVad> {
    return new SileroVad(runtime, await runtime.createSession({ graph: 'silero_vad', model }));
  }

  /** A new stream with zero state: each recording gets its own, so two never share the model's memory. */
  stream(): VadStream {
    return new VadStream(this.runtime, this.session, this.sr);
  }
}
