/**
 * What the user reads for each error code: a title and what to do.  Workers and controllers report codes; only
 * this file writes sentences.
 */

import type { ErrorCode, ErrorInfo } from '../../core/protocol.ts';

export interface UserMessage {
  title: string;
  action: string;
}

const MESSAGES: Record<ErrorCode, UserMessage> = {
  MIC_DENIED: {
    title: 'Microphone access is blocked.',
    action: 'Allow the microphone for this site (the icon at the left of the address bar), then press Record again.',
  },
  MIC_NOT_FOUND: {
    title: 'No microphone was found.',
    action: 'Connect a microphone or headset, then press Record again.',
  },
  MIC_BUSY: {
    title: 'The microphone could not be started.',
    action: 'Another application may be using it. Close that application, then press Record again.',
  },
  MIC_IN_OTHER_TAB: {
    title: 'Another tab of this app is recording.',
    action: 'Stop the recording in the other tab first, then press Record here.',
  },
  DEVICE_LOST: {
    title: 'The microphone was disconnected.',
    action:
      'Everything recorded until then is kept below. Reconnect it and press Record to continue in a new recording.',
  },
  CAPTURE_INTERRUPTED: {
    title: 'Recording paused: the system took the audio device (screen locked, call, or another app).',
    action: 'Press Resume to continue. Nothing recorded so far is lost.',
  },
  INSECURE_CONTEXT: {
    title: 'The microphone needs a secure page.',
    action: 'Open the app over https:// or from localhost.',
  },
  UNSUPPORTED_BROWSER: {
    title: 'This browser lacks audio features the app needs (AudioWorklet).',
    action: 'Use a current Safari, Chrome, Edge or Firefox. You can still transcribe audio files.',
  },
  FRAMES_LOST: {
    title: 'Some audio did not reach the recorder.',
    action: 'The recording has gaps. If this repeats, close other busy tabs and try again.',
  },
  BAD_AUDIO: {
    title: 'This audio could not be used.',
    action: 'Check that the file is a complete audio recording (WAV, MP3, M4A, OGG, WebM or MP4).',
  },
  NOT_AUDIO: {
    title: 'This file is not audio the browser can read.',
    action: 'Choose a WAV, MP3, M4A/AAC, OGG, WebM or MP4 file. If it is one, it may be damaged or cut short.',
  },
  EMPTY_FILE: {
    title: 'This file is empty.',
    action: 'It has no audio in it (0 bytes or 0 samples). Choose another file.',
  },
  SILENT_AUDIO: {
    title: 'This audio is completely silent.',
    action: 'There is nothing to transcribe. Check the recording level or choose another file.',
  },
  NO_ADAPTER: {
    title: 'No usable GPU was found.',
    action: 'The app runs on the CPU instead; it is slower.',
  },
  MODEL_LOAD_FAILED: {
    title: 'The speech model could not be loaded.',
    action: 'Check the connection and reload. If it keeps failing, use the server instead.',
  },
  SESSION_CREATE_FAILED: {
    title: 'The speech model could not be started on this device.',
    action: 'Reload the page; if it keeps failing, switch to the CPU engine or the server.',
  },
  OUT_OF_MEMORY: {
    title: 'This device ran out of memory for the model.',
    action: 'Close other tabs or apps, or use the server instead.',
  },
  DEVICE_LOST_GPU: {
    title: 'The GPU stopped responding.',
    action:
      'Your text so far is kept. Press Load model to go on without the GPU, or reload the page to try the GPU again.',
  },
  WARMUP_FAILED: {
    title: 'The GPU produced invalid results during its self-test.',
    action: 'The app will use the CPU instead.',
  },
  NON_FINITE: {
    title: 'The model produced invalid numbers (inf/NaN) for this audio.',
    action:
      'Your text so far is kept. With a half-precision variant (q4f16, fp16) the app re-encodes such audio in full precision, which needs the network once; otherwise choose another variant in Settings.',
  },
  DOWNLOAD_FAILED: {
    title: 'The model download failed.',
    action: 'What is already stored is kept. Check the connection or the model address, then press Resume download.',
  },
  DOWNLOAD_PAUSED: {
    title: 'Download paused.',
    action: 'What is downloaded so far is kept. Press Resume download to continue where it stopped.',
  },
  INTEGRITY_FAILED: {
    title: 'The model files did not pass their integrity check.',
    action:
      'The damaged data was removed and nothing bad was kept. Try again later; if it repeats, the server has a broken copy.',
  },
  STORAGE_FULL: {
    title: 'There is not enough storage space for the model on this device.',
    action: 'Free some space (or delete stored models below), load it without saving, or use the server instead.',
  },
  STORAGE_UNAVAILABLE: {
    title: 'This browser does not let the app store the model (private browsing or storage turned off).',
    action: 'Load it without saving (it downloads again next time), or use the server instead.',
  },
  OFFLINE_NOT_STORED: {
    title: 'You are offline and this model is not stored on this device.',
    action: 'Connect to the internet once to download it; after that it works offline.',
  },
  JOB_RUNNING: {
    title: 'A transcription is already running.',
    action: 'Wait for it to finish (or cancel it), then try again.',
  },
  NOT_KEPT: {
    title: 'This audio is no longer kept on this device.',
    action: 'It was deleted from Transcripts, or the browser cleared the site’s storage.',
  },
  LIBRARY_FULL: {
    title: 'There is not enough storage space to keep this transcript.',
    action: 'Delete transcripts or stored models in Settings → Storage to free space.',
  },
  LIBRARY_UNAVAILABLE: {
    title: 'Transcripts cannot be kept in this browser (private browsing or storage turned off).',
    action: 'Recording and transcribing still work; save or copy what you need before you close the page.',
  },
  NOT_STORED: {
    title: 'This model is not stored on this device yet.',
    action: 'Press Download to get it once; after that it works offline.',
  },
  NOT_LOADED: {
    title: 'The model is not loaded yet.',
    action: 'Wait for the download and loading to finish.',
  },
  CONSENT_REQUIRED: {
    title: 'Transcribing here needs the server, and audio only goes there with your permission.',
    action: 'Allow it below, or keep the audio on this device (the model may not fit it).',
  },
  NO_ENGINE: {
    title: 'Nothing can run the model with the current settings.',
    action:
      'See the reasons in the details. Choose Automatic or Server under Where to transcribe, or enter a server address.',
  },
  SERVER_UNREACHABLE: {
    title: 'The transcription server cannot be reached.',
    action: 'Check the connection and the server address under Where to transcribe, then try again.',
  },
  SERVER_ERROR: {
    title: 'The transcription server failed.',
    action: 'Try again in a moment. If it keeps failing, choose Only on this device.',
  },
  CANCELLED: {
    title: 'Cancelled.',
    action: '',
  },
  INTERNAL: {
    title: 'Something went wrong inside the app.',
    action: 'Reload the page. If it happens again, please report it with the details below.',
  },
};

export function messageFor(error: ErrorInfo): UserMessage {
  return MESSAGES[error.code];
}

/** A rejection as an ErrorInfo: worker and decoder errors already are one; anything else becomes `fallback`. */
export function asErrorInfo(err: unknown, fallback: ErrorCode = 'INTERNAL'): ErrorInfo {
  if (typeof err === 'object' && err !== null && typeof (err as ErrorInfo).code === 'string') return err as ErrorInfo;
  return { code: fallback, detail: String(err) };
}
