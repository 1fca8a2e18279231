/**
 * The ASR worker: owns captured audio, the log-mel front end and (later) the model.  Everything arrives through the
 * typed protocol (protocol.ts); every failure leaves as `{type:'error', code}`.
 *
 * Must not import from src/ (main thread) and must not touch DOM APIs; tsconfig.worker.json enforces the latter.
 */

import { CaptureSink } from './dictation/capture-sink.ts';
import type { SampleStore } from './dictation/sample-store.ts';
import { SAMPLE_RATE_HZ } from '../src/core/constants.ts';
import { LogMel } from '../src/core/dsp/mel.ts';
import { encodeWav16, encodeWavFloat32 } from '../src/core/dsp/wav.ts';
import { WorkerError, ModelHost, toErrorInfo } from './host/model-host.ts';
import { LiveSession } from '../src/core/live/live.ts';
import { createVadRuntime } from './ort/web.ts';
import { SileroVad } from '../src/core/live/silero.ts';
import vadModelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import {
  isMainToWorker,
  type ErrorInfo,
  type MainToWorker,
  type ModelLoadOptions,
  type RoutingSettings,
  type WorkerKnobs,
  type WorkerToMain,
} from '../src/core/protocol.ts';
import type { LiveEvent } from '../src/core/asr/contract.ts';
import { recordingDocId } from '../src/core/format/document.ts';
import { LibraryKeeper } from './library/keeper.ts';
import type { RecordingWriter } from './library/recording-writer.ts';

declare const self: DedicatedWorkerGlobalScope;

const STATS_INTERVAL_MS = 100;
/** How long a model load waits for the voice activity model before it says ready anyway. */
const VAD_READY_TIMEOUT_MS = 10_000;

const logMel = new LogMel();
const sessions = new Map<number, CaptureSink>();
let statsTimer: ReturnType<typeof setInterval> | null = null;
const host = new ModelHost();
/** Silero VAD, loaded on the first live recording (its own runtime: see createVadRuntime). */
let vad: Promise<SileroVad> | null = null;
const live = new Map<number, LiveSession>();
/** Why a live recording's text is incomplete (a final that failed, the model released mid-recording), by session. */
const liveProblems = new Map<number, string>();
/** The transcript library: every recording and transcribed file, its audio and its text. */
const keeper = new LibraryKeeper({
  changed: (id) => send({ type: 'library-changed', id }),
  failed: (id, what, error, kept) =>
    send({ type: 'library-error', id, what, error, keptSec: kept < 0 ? -1 : kept / SAMPLE_RATE_HZ }),
});
let fileDocs = 0;
/** The page's test knobs (a test build only: src/app/knobs.ts); a production worker never sets them. */
let knobs: WorkerKnobs = {};

/** A load's options with the knobs applied (unchanged in a production build). */
function withLoadKnobs(options: ModelLoadOptions): ModelLoadOptions {
  if (!__TEST_BUILD__) return options;
  const { storage, chunkBytes, quotaAfterBytes } = knobs;
  return {
    ...options,
    ...(storage ? { storage } : {}),
    ...(chunkBytes ? { chunkBytes } : {}),
    ...(quotaAfterBytes !== undefined ? { quotaAfterBytes } : {}),
  };
}

/** Routing settings with the knobs applied (unchanged in a production build). */
function withRoutingKnobs(routing: RoutingSettings): RoutingSettings {
  if (!__TEST_BUILD__) return routing;
  const { loseGpuAfterWindows, warmUpTimeoutMs } = knobs;
  return {
    ...routing,
    ...(loseGpuAfterWindows ? { loseGpuAfterWindows } : {}),
    ...(warmUpTimeoutMs ? { warmUpTimeoutMs } : {}),
  };
}

function loadVad(): Promise<SileroVad> {
  vad ??= (async () => {
    const res = await fetch(new URL(vadModelUrl, self.location.href));
    if (!res.ok) throw new Error(`the voice activity model answered HTTP ${res.status}`);
    return SileroVad.load(createVadRuntime(), new Uint8Array(await res.arrayBuffer()));
  })();
  vad.catch(() => (vad = null)); // a later recording tries again
  return vad;
}

/** Live dictation for a recording: VAD → segments → the loaded model's partial and final text (each final is kept
 * in the recording's library document as it comes). */
function startLive(sessionId: number): LiveSession {
  const docId = recordingDocId(sessionId);
  const emit = (event: LiveEvent) => {
    send({ type: 'live-event', sessionId, event });
    if (event.type === 'final' && event.error && !liveProblems.has(sessionId))
      liveProblems.set(sessionId, `INCOMPLETE: a segment at ${event.start.toFixed(1)} s failed: ${event.error}`);
    if (event.type === 'error' && !liveProblems.has(sessionId))
      liveProblems.set(sessionId, `INCOMPLETE: live dictation stopped: ${event.message}`);
    if (event.type === 'final' && !event.error && event.text.trim())
      void keeper.addFinal(docId, {
        start: event.start,
        end: event.end,
        text: event.text,
        final: true,
        engine: event.engine || null,
      });
  };
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
          withLoadKnobs(message.options ?? { storage: 'store' }),
          withRoutingKnobs(message.routing ?? { where: 'device', server: null }),
          (progress) => send({ type: 'model-progress', requestId, progress }),
          controller.signal,
        );
        // The voice activity model is part of being ready: creating its session blocks this thread (about 3 s on
        // single-threaded WASM in WebKit), which at the first Record would hold up the recording's first seconds.
        // Bounded: if it fails or hangs, live dictation tries again (and says so) when it starts; files do not need it.
        await Promise.race([loadVad().catch(() => undefined), new Promise((r) => setTimeout(r, VAD_READY_TIMEOUT_MS))]);
        if (!host.ready) throw new WorkerError('CANCELLED', 'the model was released while it was being made ready');
        send({ type: 'model-ready', requestId, engine: info });
      } finally {
        loads.delete(requestId);
      }
      break;
    }
    case 'download-stop': {
      const paused = new WorkerError('DOWNLOAD_PAUSED', 'download paused; what is stored is kept');
      const discard = new WorkerError('CANCELLED', 'download cancelled; its partial data was deleted');
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
      for (const [sessionId, session] of live) {
        liveProblems.set(sessionId, 'CANCELLED: the model was released before every segment was transcribed');
        session.cancel();
      }
      await host.release();
      send({ type: 'model-released', requestId: message.requestId });
      break;
    case 'transcribe': {
      const { requestId, source } = message;
      let pcm: Float32Array;
      let docId: string | null = null;
      if (source.kind === 'stored') {
        docId = source.id;
        pcm = await recordingAudio(source.id);
        await keeper.startTranscription(docId, pcm.length, host.identity);
      } else {
        pcm = source.samples;
        if (source.keep) {
          const id = `file-${Date.now()}-${++fileDocs}`;
          if (await keeper.startFile(id, source.keep.fileName, pcm, new Date(), host.identity)) docId = id;
        }
      }
      let transcript;
      try {
        transcript = await host.transcribe(
          requestId,
          pcm,
          (event) => send({ type: 'transcribe-event', requestId, event }),
          __TEST_BUILD__ ? knobs.maxNewTokens : undefined,
          message.routing && withRoutingKnobs(message.routing),
        );
      } catch (err) {
        if (docId) await keeper.transcriptionFailed(docId, toErrorInfo(err));
        throw err;
      }
      if (docId) await keeper.transcribed(docId, transcript.windows);
      send({ type: 'transcribe-done', requestId, transcript, docId });
      break;
    }
    case 'recording-get': {
      const { requestId, sessionId } = message;
      const samples = await recordingAudio(recordingDocId(sessionId));
      if (message.format === 'wav16' || message.format === 'wavf32') {
        const data =
          message.format === 'wav16' ? encodeWav16(samples, SAMPLE_RATE_HZ) : encodeWavFloat32(samples, SAMPLE_RATE_HZ);
        send({ type: 'recording', requestId, sessionId, format: message.format, data }, [data.buffer]);
      } else {
        send({ type: 'recording', requestId, sessionId, format: 'f32', data: samples }, [samples.buffer]);
      }
      break;
    }
    case 'cancel':
      host.cancel(message.requestId);
      break;
    default:
      break;
  }
}

/** A recording's (or kept file's) audio: from memory while the worker holds it, else from the library. */
async function recordingAudio(docId: string): Promise<Float32Array> {
  for (const sink of sessions.values()) if (recordingDocId(sink.sessionId) === docId) return sink.store.slice();
  const samples = await keeper.store.audio(docId);
  if (samples.length === 0) throw new WorkerError('NOT_KEPT', `no audio is kept for ${docId}`);
  return samples;
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
    case 'recording-get':
    case 'cancel':
      handleModel(message).catch((err: unknown) =>
        fail(toErrorInfo(err), 'requestId' in message ? message.requestId : undefined),
      );
      break;
    case 'capture-attach': {
      const { sessionId } = message;
      const docId = recordingDocId(sessionId);
      const session = message.live && host.ready ? startLive(sessionId) : null;
      if (__TEST_BUILD__ && knobs.libraryQuotaAfterBytes !== undefined)
        keeper.store.simulateQuota(knobs.libraryQuotaAfterBytes);
      // The recording's library document; its audio is written each second from the moment it exists.
      let writer: RecordingWriter | null = null;
      const started = keeper.startRecording(docId, new Date(sessionId), host.identity).then((w) => {
        writer = w;
        w?.push(sink.store);
        return w;
      });
      const sink = new CaptureSink(sessionId, message.port as MessagePort, logMel, {
        onAudio: (store: SampleStore) => {
          session?.feed(store);
          writer?.push(store);
        },
        onFinished: (stats, poolMisses) => {
          const transcribed = session
            ? session
                .finish(sink.store)
                .catch(() => undefined)
                .finally(() => live.delete(sessionId))
            : null;
          const mel = sink.takeMel();
          if (mel) send({ type: 'mel-columns', mel }, [mel.data.buffer]);
          send({ type: 'capture-finished', stats, poolMisses });
          if (stats.lostFrames > 0 || stats.duplicateFrames > 0) {
            fail({
              code: 'FRAMES_LOST',
              detail: `${stats.lostFrames} frames lost, ${stats.duplicateFrames} duplicated in session ${stats.sessionId}`,
            });
          }
          void (async () => {
            const { complete } = await keeper.recordingEnded(await started, docId, sink.store, session !== null);
            if (transcribed) {
              await transcribed;
              await keeper.liveDone(docId, liveProblems.get(sessionId) ?? null);
              liveProblems.delete(sessionId);
            }
            // Stored and transcribed: the library has every sample, the memory can go.
            if (complete) sessions.delete(sessionId);
          })();
        },
      });
      sessions.set(sessionId, sink);
      statsTimer ??= setInterval(tick, STATS_INTERVAL_MS);
      break;
    }
    case 'capture-detach':
      // The worklet could not send its final message (context closed early): keep what arrived.
      break;
    case 'recording-discard':
      sessions.delete(message.sessionId);
      break;
    case 'test-knobs':
      // Only a test build honours them; a production worker has no knobs whoever posts this.
      if (__TEST_BUILD__) knobs = message.knobs;
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

// A promise nobody awaited failed: say so (the page shows it) instead of losing it.
self.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  const reason: unknown = event.reason;
  fail({
    code: 'INTERNAL',
    detail: `unhandled rejection in the worker: ${reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)}`,
  });
});

send({ type: 'ready' });
