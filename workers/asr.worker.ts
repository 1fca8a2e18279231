/**
 * The ASR worker's entry: answers the page's calls through one handler per call (typed by `Calls` in
 * src/core/protocol.ts, so a missing or mistyped handler does not compile), takes its notices, and sends events.
 * Recordings and live dictation are in dictation/recordings.ts, the model in host/, the library's writer in
 * library/.  Every failure leaves as `{type:'error', code}`.
 *
 * Must not import from src/app (the page) and must not touch DOM APIs; tsconfig.worker.json enforces the latter.
 */

import { SAMPLE_RATE_HZ } from '../src/core/constants.ts';
import { encodeWavFloat32 } from '../src/core/dsp/wav.ts';
import { WorkerError, ModelHost, toErrorInfo } from './host/model-host.ts';
import vadModelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import {
  isMainToWorker,
  type CallMessage,
  type CallName,
  type CallRequest,
  type CallResult,
  type ErrorInfo,
  type ModelLoadOptions,
  type Notice,
  type RoutingSettings,
  type WorkerEvent,
  type WorkerKnobs,
  type WorkerToMain,
} from '../src/core/protocol.ts';
import { LibraryKeeper } from './library/keeper.ts';
import { Recordings } from './dictation/recordings.ts';
import { sleep } from '../src/core/async.ts';

declare const self: DedicatedWorkerGlobalScope;

/** How long a model load waits for the voice activity model before it says ready anyway. */
const VAD_READY_TIMEOUT_MS = 10_000;

const host = new ModelHost();
/** The transcript library: every recording and transcribed file, its audio and its text. */
const keeper = new LibraryKeeper({
  changed: (id) => send({ type: 'library-changed', id }),
  failed: (id, what, error, kept) =>
    send({ type: 'library-error', id, what, error, keptSec: kept < 0 ? -1 : kept / SAMPLE_RATE_HZ }),
});
const recordings = new Recordings({
  host,
  keeper,
  vadModel: async () => {
    const res = await fetch(new URL(vadModelUrl, self.location.href));
    if (!res.ok) throw new Error(`the voice activity model answered HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  },
  send,
  fail,
});
let fileDocs = 0;
/** The page's test knobs (a test build only: src/app/knobs.ts); a production worker never sets them. */
let knobs: WorkerKnobs = {};
/** Running model loads, by call id, so a download can be paused or cancelled. */
const loads = new Map<number, AbortController>();
host.onBackendLost = (code, detail) => send({ type: 'backend-lost', error: { code, detail } });
host.onBackendChanged = (backend, reason, inJob) => send({ type: 'backend-changed', backend, reason, inJob });

/** A load's options with the knobs applied (unchanged in a production build). */
function withLoadKnobs(options: ModelLoadOptions): ModelLoadOptions {
  if (!__TEST_BUILD__) return options;
  const { storage, chunkBytes, quotaAfterBytes, graphs } = knobs;
  return {
    ...options,
    ...(storage ? { storage } : {}),
    ...(graphs ? { graphs } : {}),
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

/** What a handler learns about its call: the id (events it sends carry it) and where to list transferables. */
interface CallContext {
  id: number;
  transfer: Transferable[];
}
type Handlers = { [K in CallName]: (req: CallRequest<K>, call: CallContext) => Promise<CallResult<K>> };

const handlers: Handlers = {
  'model-load': async (req, { id }) => {
    const controller = new AbortController();
    loads.set(id, controller);
    try {
      const info = await host.load(
        req.baseUrl,
        req.variant,
        req.backend,
        withLoadKnobs(req.options ?? { storage: 'store' }),
        withRoutingKnobs(req.routing ?? { where: 'device', server: null }),
        (progress) => send({ type: 'model-progress', id, progress }),
        controller.signal,
      );
      // The voice activity model is part of being ready: creating its session blocks this thread (about 3 s on
      // single-threaded WASM in WebKit), which at the first Record would hold up the recording's first seconds.
      // Bounded: if it fails or hangs, live dictation tries again (and says so) when it starts; files do not need it.
      await Promise.race([recordings.loadVad().catch(() => undefined), sleep(VAD_READY_TIMEOUT_MS)]);
      if (!host.ready) throw new WorkerError('CANCELLED', 'the model was released while it was being made ready');
      return info;
    } finally {
      loads.delete(id);
    }
  },
  'model-release': async () => {
    recordings.cancelLive();
    await host.release();
    return null;
  },
  'storage-list': () => host.storageReport(),
  'device-probe': () => host.deviceReport(),
  'storage-delete': async ({ key }) => {
    await host.deleteStored(key);
    return host.storageReport();
  },
  transcribe: async ({ source, routing }, { id }) => {
    let pcm: Float32Array;
    let docId: string | null = null;
    if (source.kind === 'stored') {
      docId = source.id;
      pcm = await recordings.audio(source.id);
      await keeper.startTranscription(docId, pcm.length, host.identity);
    } else {
      pcm = source.samples;
      if (source.keep) {
        const fileId = `file-${Date.now()}-${++fileDocs}`;
        if (await keeper.startFile(fileId, source.keep.fileName, pcm, new Date(), host.identity)) docId = fileId;
      }
    }
    let transcript;
    try {
      transcript = await host.transcribe(
        id,
        pcm,
        (event) => send({ type: 'transcribe-event', id, event }),
        __TEST_BUILD__ ? knobs.maxNewTokens : undefined,
        routing && withRoutingKnobs(routing),
      );
    } catch (err) {
      if (docId) await keeper.transcriptionFailed(docId, toErrorInfo(err));
      throw err;
    }
    if (docId) await keeper.transcribed(docId, transcript.windows);
    return { transcript, docId };
  },
  'recording-wav': async ({ recordingId }, { transfer }) => {
    const wav = encodeWavFloat32(await recordings.audio(recordingId), SAMPLE_RATE_HZ);
    transfer.push(wav.buffer);
    return wav;
  },
};

/** Run call `message` and answer it with its result or its error. */
async function answer({ call, id, req }: CallMessage): Promise<void> {
  const context: CallContext = { id, transfer: [] };
  try {
    const handler = handlers[call] as (req: unknown, call: CallContext) => Promise<unknown>;
    const res = await handler(req, context);
    send({ type: 'result', id, res }, context.transfer);
  } catch (err) {
    fail(toErrorInfo(err), id);
  }
}

function take(notice: Notice): void {
  switch (notice.type) {
    case 'download-stop': {
      const paused = new WorkerError('DOWNLOAD_PAUSED', 'download paused; what is stored is kept');
      const discard = new WorkerError('CANCELLED', 'download cancelled; its partial data was deleted');
      loads.get(notice.id)?.abort(notice.mode === 'pause' ? paused : discard);
      break;
    }
    case 'cancel':
      host.cancel(notice.id);
      break;
    case 'capture-attach':
      if (__TEST_BUILD__ && knobs.libraryQuotaAfterBytes !== undefined)
        keeper.store.simulateQuota(knobs.libraryQuotaAfterBytes);
      recordings.attach(notice.recordingId, notice.startedAt, notice.port as MessagePort, notice.live === true);
      break;
    case 'recording-discard':
      recordings.discard(notice.recordingId);
      break;
    case 'page-facts':
      host.pageFacts({ maxTouchPoints: notice.maxTouchPoints });
      break;
    case 'test-knobs':
      // Only a test build honours them; a production worker has no knobs whoever posts this.
      if (__TEST_BUILD__) knobs = notice.knobs;
      break;
  }
}

function send(message: WorkerToMain | WorkerEvent, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function fail(error: ErrorInfo, id?: number): void {
  send({ type: 'error', error, ...(id === undefined ? {} : { id }) });
}

self.onmessage = (event: MessageEvent) => {
  const data: unknown = event.data;
  if (!isMainToWorker(data)) {
    fail({ code: 'INTERNAL', detail: `unrecognised message ${JSON.stringify(data)?.slice(0, 200)}` });
    return;
  }
  try {
    if (data.type === 'call') void answer(data);
    else take(data);
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
