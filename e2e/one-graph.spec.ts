/**
 * The low-memory mode in Chromium (issue 23 item 2): with the `graphs=one` test knob the ASR worker keeps one graph
 * at a time (src/core/asr/one-graph.ts).  A 2-window file through the file input must give the official token ids
 * (the converter's goldens, the oracle of e2e/transcribe.spec.ts) on WASM and on WebGPU (SwiftShader), tiny fp32.
 *
 * A script injected into the worker before its own code (e2e/helpers/worker-inject.ts) records the job's `phase`
 * events as the worker posts them and, on WebGPU, a ledger of the GPU buffers of the worker's devices (createBuffer
 * minus destroy, a device's destroy ending all of its buffers) with a snapshot at each phase.  It proves that the
 * mode ran (encoding every window, then the decoder loaded, then decoding) and that the audio encoder's GPU buffers
 * were destroyed, not kept in onnxruntime's buffer pool: every buffer alive while the encoder alone was resident is
 * gone once the decoder decodes.  (Measured on the tiny model, 2-head encoder: 72 buffers, 21.8 MiB, with the
 * encoder resident, none of them left while decoding, all destroyed one by one by onnxruntime before it destroyed its
 * device; 115 buffers, 56.3 MiB, with onnxruntime's default of 16 dispatches a submission.)  It also counts compute
 * dispatches and queue submissions: the low-memory mode's encoder submits every 4 dispatches, its decoder keeps
 * onnxruntime's batches (src/core/asr/residency.ts, LOW_MEMORY_ENCODER_PENDING_DISPATCHES).
 *
 * WebGPU on SwiftShader spends about a minute in the load's warm-up here, in either mode, so the same load also loses
 * its GPU after window 1 (loseGpuAfterWindows): the swaps' own device destroys are not a loss, a real one still moves
 * the job to the CPU.
 */
import { expect, test, type Page, type Worker } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { injectIntoWorkers } from './helpers/worker-inject.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
}

/** One `phase` event as the worker posted it, with the GPU buffers alive then (ids) and their bytes. */
interface PhaseSnapshot {
  phase: string;
  index: number;
  liveIds: number[];
  liveBytes: number;
  /** Buffers destroyed one by one so far, and by the destroy of their device. */
  destroyed: number;
  lostWithDevice: number;
  /** Compute dispatches and queue submissions so far. */
  dispatches: number;
  submits: number;
}

/** Runs in the worker before its code: the phase events and the GPU buffer ledger, on `self.__oneGraph`. */
const LEDGER = `
const live = new Map();
const state = { phases: [], created: 0, destroyed: 0, lostWithDevice: 0, devicesDestroyed: 0, dispatches: 0, submits: 0 };
self.__oneGraph = state;
let nextId = 1;
if (typeof GPUDevice !== 'undefined') {
  const createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    const buffer = createBuffer.call(this, descriptor);
    live.set(buffer, { id: nextId++, size: descriptor.size, device: this });
    state.created++;
    return buffer;
  };
  const destroyBuffer = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function () {
    if (live.delete(this)) state.destroyed++;
    return destroyBuffer.call(this);
  };
  // Compute dispatches and queue submissions: onnxruntime submits its commands every maxNumPendingDispatches.
  for (const name of ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect']) {
    const dispatch = GPUComputePassEncoder.prototype[name];
    GPUComputePassEncoder.prototype[name] = function (...args) {
      state.dispatches++;
      return dispatch.apply(this, args);
    };
  }
  const submit = GPUQueue.prototype.submit;
  GPUQueue.prototype.submit = function (buffers) {
    state.submits++;
    return submit.call(this, buffers);
  };
  const destroyDevice = GPUDevice.prototype.destroy;
  GPUDevice.prototype.destroy = function () {
    state.devicesDestroyed++;
    for (const [buffer, entry] of live) {
      if (entry.device === this) {
        live.delete(buffer);
        state.lostWithDevice++;
      }
    }
    return destroyDevice.call(this);
  };
}
const post = self.postMessage.bind(self);
self.postMessage = function (message, ...rest) {
  const event = message && message.type === 'transcribe-event' ? message.event : null;
  if (event && event.type === 'phase') {
    let bytes = 0;
    const ids = [];
    for (const entry of live.values()) {
      bytes += entry.size;
      ids.push(entry.id);
    }
    state.phases.push({
      phase: event.phase,
      index: event.index,
      liveIds: ids,
      liveBytes: bytes,
      destroyed: state.destroyed,
      lostWithDevice: state.lostWithDevice,
      dispatches: state.dispatches,
      submits: state.submits,
    });
  }
  return post(message, ...rest);
};
`;

const goldens = (model: string) =>
  JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', model, 'goldens.json'), 'utf8')) as Goldens;

/** The ASR worker: the one whose injected ledger saw the job's phases. */
async function ledgerOf(page: Page): Promise<{ phases: PhaseSnapshot[]; devicesDestroyed: number }> {
  const read = (w: Worker) =>
    w.evaluate(
      () => (self as unknown as { __oneGraph?: { phases: PhaseSnapshot[]; devicesDestroyed: number } }).__oneGraph,
    );
  for (const worker of page.workers()) {
    const ledger = await read(worker).catch(() => undefined);
    if (ledger?.phases.length) return ledger;
  }
  throw new Error(
    `no worker posted a phase event (workers: ${page
      .workers()
      .map((w) => w.url())
      .join(', ')})`,
  );
}

const MiB = 1024 * 1024;

for (const engine of ['wasm', 'webgpu'] as const) {
  // On WebGPU the same load also loses its GPU after window 1 (loseGpuAfterWindows; one SwiftShader load, about a
  // minute, serves both checks).  The swap to the decoder ends onnxruntime's device on purpose, which is not a loss:
  // window 1 still decodes on the GPU; the device really lost after it moves window 2 to the CPU.
  const knobs = engine === 'webgpu' ? '&loseGpuAfterWindows=1' : '';
  test(`one graph at a time (graphs=one): a 2-window file gives the official token ids (${engine}, fp32 tiny${engine === 'webgpu' ? ', GPU lost after window 1' : ''})`, async ({
    page,
  }) => {
    test.setTimeout(engine === 'webgpu' ? 300_000 : 120_000);
    const g = goldens('tiny');
    const clip = g.clips.find((c) => c.windows.length === 2)!;
    await injectIntoWorkers(page, LEDGER);
    await page.goto(
      `/?model=/models/tiny/&variant=fp32&engine=${engine}&maxNewTokens=${g.max_new_tokens}&graphs=one${knobs}`,
    );
    await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', engine, { timeout: 150_000 });

    await page.getByTestId('file-input').setInputFiles(clipWav(clip.id, clip.files));
    await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 120_000 });
    const windows = page.getByTestId('windows').locator('li');
    const ids = await windows.evaluateAll((lis) =>
      lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]),
    );
    expect(ids).toEqual(clip.windows.map((w) => w.token_ids));

    // The mode ran: both windows encoded, then the decoder loaded, then both decoded.  On WebGPU window 2 moved to the
    // CPU after the loss, whose pipeline (one graph at a time too) encodes it again, loads its decoder and decodes it.
    const { phases, devicesDestroyed } = await ledgerOf(page);
    const start = ['encoding:0', 'encoding:1', 'loading-decoder:0', 'decoding:0'];
    expect(phases.map((p) => `${p.phase}:${p.index}`)).toEqual(
      engine === 'webgpu' ? [...start, 'encoding:1', 'loading-decoder:1', 'decoding:1'] : [...start, 'decoding:1'],
    );
    if (engine !== 'webgpu') return;
    await expect(windows.nth(0)).toContainText('GPU');
    await expect(windows.nth(1)).toContainText('CPU');

    // The encoder's GPU buffers: alive while it alone was resident, destroyed (not pooled) before the decoding.
    const encoding = phases[0]!;
    const decoding = phases[3]!;
    const after = new Set(decoding.liveIds);
    const kept = encoding.liveIds.filter((id) => after.has(id));
    console.log(
      `[one-graph webgpu] live GPU buffers: ${encoding.liveIds.length} (${(encoding.liveBytes / MiB).toFixed(2)} MiB) ` +
        `with the encoder resident; ${decoding.liveIds.length} (${(decoding.liveBytes / MiB).toFixed(2)} MiB) ` +
        `while decoding, ${kept.length} of the encoder's still alive; ${decoding.destroyed} destroyed, ` +
        `${decoding.lostWithDevice} with their device (${devicesDestroyed} devices destroyed)`,
    );
    expect(encoding.liveBytes).toBeGreaterThan(0);
    expect(kept).toEqual([]);
    // onnxruntime-web 1.31 ends its WebGPU context with the last session: it destroys its pooled buffers one by one,
    // then the device (with the few buffers left on it), and the decoder's session makes a new device.
    expect(decoding.destroyed).toBeGreaterThan(encoding.destroyed);
    expect(devicesDestroyed).toBeGreaterThanOrEqual(2);

    // The encoder's context submits every 4 dispatches (LOW_MEMORY_ENCODER_PENDING_DISPATCHES: its run's released
    // tensors are reused soon instead of piling up 16 dispatches' worth), the decoder's keeps onnxruntime's default of
    // 16 dispatches a submission.  Encoding: from 'encoding:0' to 'loading-decoder:0' (both windows); decoding: window
    // 0, from 'decoding:0' to the next phase.
    const between = (a: PhaseSnapshot, b: PhaseSnapshot) => ({
      dispatches: b.dispatches - a.dispatches,
      submits: b.submits - a.submits,
    });
    const enc = between(phases[0]!, phases[2]!);
    const dec = between(phases[3]!, phases[4]!);
    console.log(
      `[one-graph webgpu] encoding: ${enc.dispatches} dispatches, ${enc.submits} submissions; ` +
        `decoding window 0: ${dec.dispatches} dispatches, ${dec.submits} submissions`,
    );
    // Measured: 320 dispatches in 86 submissions (80, and each window's end and read of its features).  With onnxruntime's default in the encoder's context: 320 dispatches in 26 submissions;
    // with 1, in 328.  Decoding: 1690 in 369 (16 a submission, and each step's end and read of its logits: 4.6
    // dispatches a submission; 4 a submission would give fewer than 4).
    expect(enc.dispatches).toBeGreaterThan(0);
    expect(enc.submits * 4).toBeGreaterThanOrEqual(enc.dispatches);
    expect(dec.dispatches).toBeGreaterThan(0);
    expect(dec.submits * 4).toBeLessThan(dec.dispatches);
  });
}
