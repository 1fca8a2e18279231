/**
 * The ASR worker: owns captured audio, the log-mel front end and (later) the model.  Everything arrives through the
 * typed protocol (protocol.ts); every failure leaves as `{type:'error', code}`.
 *
 * Must not import from src/ (main thread) and must not touch DOM APIs; tsconfig.worker.json enforces the latter.
 */

import { CaptureSink } from './capture/capture-sink.ts';
import type { SampleStore } from './capture/sample-store.ts';
import { SAMPLE_RATE_HZ } from './constants.ts';
import { LogMel } from './dsp/mel.ts';
import { encodeWav16, encodeWavFloat32 } from './dsp/wav.ts';
import { EngineError, ModelHost, toErrorInfo } from './asr/engine.ts';
import { LiveSession } from './asr/live.ts';
import { createVadRuntime } from './asr/ort/web.ts';
import { SileroVad } from './asr/vad/silero.ts';
import vadModelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import { isMainToWorker, type ErrorInfo, type MainToWorker, type WorkerToMain } from './protocol.ts';
import type { LiveEvent } from './asr/contract.ts';

declare const self: DedicatedWorkerGlobalScope;

const STATS_INTERVAL_MS = 100;

const logMel = new LogMel();
const sessions = new Map<number, CaptureSink>();
let statsTimer: ReturnType<typeof setInterval> | null = null;
const host = new ModelHost();
/** Silero VAD, loaded on the first live recording (its own runtime: see createVadRuntime). */
let vad: Promise<SileroVad> | null = null;
const live = new Map<number, LiveSession>();

function loadVad(): Promise<SileroVad> {
  vad ??= (async () => {
    const res = await fetch(new URL(vadModelUrl, self.location.href));
    if (!res.ok) throw new Error(`the voice activity model answered HTTP ${res.status}`);
    return SileroVad.load(createVadRuntime(), new Uint8Array(await res.arrayBuffer()));
  })();
  vad.catch(() => (vad = null)); // a later recording tries again
  return vad;
}

/** Live dictation for a recording: VAD → segments → the loaded model's partial and final text. */
function startLive(sessionId: number): LiveSession {
  const emit = (event: LiveEvent) => send({ type: 'live-event', sessionId, event });
  // Its own VAD stream: a previous recording may still be finishing.
  const stream = loadVad().then((v) => v.stream());
  stream.catch(() => undefined);
  const session = new LiveSession({
    probability: async (frame) => (await stream).probability(frame),
    decoder: { decode: (samples, _kind, signal) => host.decodeSegment(samples, signal) },
    emit,
  });
  emit({ type: 'listening' });
  live.set(sessionId, session);
  return session;
}
/** Running model loads, by request id, so a download can be paused or cancelled. */
const loads = new Map<number, AbortController>();
host.onEngineLost = (code, detail) => send({ type: 'engine-lost', error: { code, detail } });
host.onEngineChanged = (engine, reason, inJob) => send({ type: 'engine-changed', engine, reason, inJob });

async function handleModel(message: MainToWorker): Promise<void> {
  switch (message.type) {
    case 'model-load': {
      const { requestId } = message;
      const controller = new AbortController();
      loads.set(requestId, controller);
      try {
        const info = await host.load(
          message.baseUrl,
          message.variant,
          message.engine,
          message.options ?? { storage: 'store' },
          message.routing ?? { where: 'device', server: null },
          (progress) => send({ type: 'model-progress', requestId, progress }),
          controller.signal,
        );
        send({ type: 'model-ready', requestId, engine: info });
      } finally {
        loads.delete(requestId);
      }
      break;
    }
    case 'download-stop': {
      const paused = new EngineError('DOWNLOAD_PAUSED', 'download paused; what is stored is kept');
      const discard = new EngineError('CANCELLED', 'download cancelled; its partial data was deleted');
      loads.get(message.requestId)?.abort(message.mode === 'pause' ? paused : discard);
      break;
    }
    case 'storage-list':
      send({ type: 'storage-report', requestId: message.requestId, report: await host.storageReport() });
      break;
    case 'device-probe':
      send({ type: 'device-report', requestId: message.requestId, report: await host.deviceReport() });
      break;
    case 'storage-delete':
      await host.deleteStored(message.key);
      send({ type: 'storage-report', requestId: message.requestId, report: await host.storageReport() });
      break;
    case 'model-release':
      for (const session of live.values()) session.cancel();
      await host.release();
      send({ type: 'model-released', requestId: message.requestId });
      break;
    case 'transcribe': {
      const { requestId, source } = message;
      let pcm: Float32Array;
      if (source.kind === 'recording') {
        const sink = sessions.get(source.sessionId);
        if (!sink) throw new EngineError('BAD_AUDIO', `no recording for session ${source.sessionId}`);
        pcm = sink.store.slice();
      } else {
        pcm = source.samples;
      }
      const transcript = await host.transcribe(
        requestId,
        pcm,
        (event) => send({ type: 'transcribe-event', requestId, event }),
        message.maxNewTokens,
        message.routing,
      );
      send({ type: 'transcribe-done', requestId, transcript });
      break;
    }
    case 'cancel':
      host.cancel(message.requestId);
      break;
    default:
      break;
  }
}

function send(message: WorkerToMain, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function fail(error: ErrorInfo, requestId?: number): void {
  send({ type: 'error', error, ...(requestId === undefined ? {} : { requestId }) });
}

function tick(): void {
  let live = false;
  for (const sink of sessions.values()) {
    if (sink.done) continue;
    live = true;
    send({ type: 'capture-stats', stats: sink.stats() });
    const mel = sink.takeMel();
    if (mel) send({ type: 'mel-columns', mel }, [mel.data.buffer]);
  }
  if (!live && statsTimer !== null) {
    clearInterval(statsTimer);
    statsTimer = null;
  }
}

function handle(message: MainToWorker): void {
  switch (message.type) {
    case 'model-load':
    case 'model-release':
    case 'download-stop':
    case 'storage-list':
    case 'device-probe':
    case 'storage-delete':
    case 'transcribe':
    case 'cancel':
      handleModel(message).catch((err: unknown) =>
        fail(toErrorInfo(err), 'requestId' in message ? message.requestId : undefined),
      );
      break;
    case 'capture-attach': {
      const session = message.live && host.ready ? startLive(message.sessionId) : null;
      const sink = new CaptureSink(message.sessionId, message.port as MessagePort, logMel, {
        ...(session ? { onAudio: (store: SampleStore) => session.feed(store) } : {}),
        onFinished: (stats, poolMisses) => {
          if (session) void session.finish(sink.store).finally(() => live.delete(message.sessionId));
          const mel = sink.takeMel();
          if (mel) send({ type: 'mel-columns', mel }, [mel.data.buffer]);
          send({ type: 'capture-finished', stats, poolMisses });
          if (stats.lostFrames > 0 || stats.duplicateFrames > 0) {
            fail({
              code: 'FRAMES_LOST',
              detail: `${stats.lostFrames} frames lost, ${stats.duplicateFrames} duplicated in session ${stats.sessionId}`,
            });
          }
        },
      });
      sessions.set(message.sessionId, sink);
      statsTimer ??= setInterval(tick, STATS_INTERVAL_MS);
      break;
    }
    case 'capture-detach':
      // The worklet could not send its final message (context closed early): keep what arrived.
      break;
    case 'recording-get': {
      const sink = sessions.get(message.sessionId);
      if (!sink) {
        fail({ code: 'BAD_AUDIO', detail: `no recording for session ${message.sessionId}` }, message.requestId);
        return;
      }
      const samples = sink.store.slice();
      const { requestId, sessionId } = message;
      if (message.format === 'wav16' || message.format === 'wavf32') {
        const data =
          message.format === 'wav16' ? encodeWav16(samples, SAMPLE_RATE_HZ) : encodeWavFloat32(samples, SAMPLE_RATE_HZ);
        send({ type: 'recording', requestId, sessionId, format: message.format, data }, [data.buffer]);
      } else {
        send({ type: 'recording', requestId, sessionId, format: 'f32', data: samples }, [samples.buffer]);
      }
      break;
    }
    case 'recording-discard':
      sessions.delete(message.sessionId);
      break;
  }
}

self.onmessage = (event: MessageEvent) => {
  const data: unknown = event.data;
  if (!isMainToWorker(data)) {
    fail({ code: 'INTERNAL', detail: `unrecognised message ${JSON.stringify(data)?.slice(0, 200)}` });
    return;
  }
  try {
    handle(data);
  } catch (error) {
    fail({ code: 'INTERNAL', detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
};

send({ type: 'ready' });
