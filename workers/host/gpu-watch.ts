/**
 * The model host's watch on onnxruntime's GPUDevice.  A device that is lost (a driver reset, the OS reclaiming
 * memory) stays unusable in this worker: so the watch remembers it and WebGPU is not planned again in this tab.
 * (onnxruntime-web 1.31 ends its WebGPU context, destroying its device, when its last session is released, and makes
 * a new one for the next session: the low-memory mode does so at every swap, and the host then watches the new
 * device, `pipeline.onResident`.)  While the lost device belongs to the active pipeline,
 * the next window on it throws `BackendUnavailable` and the job moves on; when no job runs, the host fails over at
 * once.  It also holds the `loseGpuAfterWindows` test hook, which destroys the device as a driver reset would.
 */
import { BackendUnavailable } from '../../src/core/asr/window-transcriber.ts';
import { ortGpuDevice } from '../ort/web.ts';

export class GpuWatch {
  /** The active pipeline's device was lost: why (null while it works). */
  private lost: string | null = null;
  /** ORT's GPUDevice was lost or destroyed in this worker: why (then WebGPU is never planned again). */
  gone: string | null = null;
  /** Windows finished on WebGPU in the running job (for the `loseGpuAfterWindows` test hook). */
  private windows = 0;

  /** Never plan WebGPU again in this worker (a GPU that failed its warm-up, say). */
  markGone(why: string): void {
    this.gone ??= why;
  }

  /** Whether the active pipeline's device was lost. */
  get isLost(): boolean {
    return this.lost !== null;
  }

  /** The failure a window on the lost device reports. */
  lostError(cause?: unknown): BackendUnavailable {
    const message = `the GPU device was lost (${this.lost})`;
    return new BackendUnavailable('webgpu', 'device-lost', message, cause === undefined ? undefined : { cause });
  }

  /**
   * Watch ORT's device for a newly started WebGPU pipeline.  `isActive` says whether that pipeline is still the
   * host's active one when the device goes; `onLost` is then told (the host fails over when no job runs).
   */
  watch(isActive: () => boolean, onLost: (failure: BackendUnavailable) => void): void {
    this.lost = null;
    void ortGpuDevice().then((device) =>
      device?.lost.then((info: GPUDeviceLostInfo) => {
        // An explicit release destroys the device on purpose; ORT keeps the device, so a lost one stays lost.
        if (info.reason !== 'destroyed' || isActive()) this.gone ??= `${info.reason}: ${info.message || 'device lost'}`;
        if (!isActive()) return;
        this.lost ??= `${info.reason}: ${info.message}`;
        onLost(this.lostError());
      }),
    );
  }

  /** A job starts: the test hook counts its windows from zero. */
  jobStarted(): void {
    this.windows = 0;
  }

  /** A window finished on WebGPU: the test hook destroys the device after `loseAfterWindows` of them. */
  async windowDone(loseAfterWindows: number | undefined): Promise<void> {
    if (loseAfterWindows && ++this.windows === loseAfterWindows) await this.lose();
  }

  /** Test hook: destroy ORT's GPUDevice, as a driver reset or an OS memory kill would. */
  private async lose(): Promise<void> {
    const device = await ortGpuDevice();
    if (!device) return;
    device.destroy();
    const info = await device.lost;
    this.lost ??= `${info.reason}: ${info.message || 'device destroyed'}`;
    this.gone ??= this.lost;
  }
}
