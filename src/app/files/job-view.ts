/**
 * How a file job looks: its name, cancel, the failover notices, progress with the ETA, the windows as they stream,
 * then the transcript with *Save*.  Pure rendering of a `TranscriptionJob`; the file panel places it.
 */
import { html, nothing } from 'lit';
import type { WindowResult } from '../../core/asr/contract.ts';
import { segmentsOf } from '../../core/format/export.ts';
import type { Library } from '../library/library.ts';
import { formatDuration } from '../shared/format.ts';
import type { TranscriptionJob } from './transcription-job.ts';
import '../library/export-menu.ts';

/** A file job's window as it is shown: streaming text while it decodes, the finished result after. */
export interface JobWindow {
  index: number;
  /** The finished window (token ids, timings), once the transcription is done. */
  result?: WindowResult;
  startSec: number;
  endSec: number;
  text: string;
  done: boolean;
}

/**
 * A file job's windows: times, the backend badge, the precision fallback badge, and the text.  Test hooks per window:
 * `data-window`, `data-done`, `data-engine`, `data-token-ids`, `data-timings`, and `data-text` once done.
 */
function windowList(windows: readonly JobWindow[]) {
  return html`<ol data-testid="windows">
    ${windows.map(
      (w) =>
        html`<li
          data-window=${w.index}
          data-done=${w.done}
          data-engine=${w.result?.engine ?? ''}
          data-token-ids=${w.result ? JSON.stringify(w.result.tokenIds) : ''}
          data-timings=${
            w.result
              ? JSON.stringify({
                  encoderMs: w.result.encoderMs,
                  prefillMs: w.result.prefillMs,
                  decodeMs: w.result.decodeMs,
                  tokens: w.result.tokenIds.length,
                })
              : ''
          }
        >
          <span class="time"
            >${formatDuration(w.startSec)}–${formatDuration(w.endSec)}${
              w.result?.engine
                ? html`<span class="badge"
                    >${w.result.engine === 'server' ? 'server' : w.result.engine === 'webgpu' ? 'GPU' : 'CPU'}</span
                  >`
                : nothing
            }${
              w.result?.encoderVariant
                ? html`<span
                    class="badge"
                    data-testid="precision-fallback"
                    title="Half precision overflowed on this window's audio, so it was encoded again in full precision (${
                      w.result.encoderVariant
                    })"
                    >audio in ${w.result.encoderVariant}</span
                  >`
                : nothing
            }</span
          >
          <span class="text" data-text=${w.done ? w.text : ''}>${w.text || (w.done ? '(nothing heard)' : '…')}</span>
        </li>`,
    )}
  </ol>`;
}

/** What the low-memory mode is doing while no window decodes (one graph at a time), else null. */
function phaseText(job: TranscriptionJob): string | null {
  const p = job.phase;
  if (!p) return null;
  switch (p.phase) {
    case 'encoding':
      return `One graph at a time: listening to window ${p.index + 1} of ${p.count}`;
    case 'loading-decoder':
      return 'One graph at a time: loading the decoder to write the text…';
    case 'loading-encoder':
      return 'One graph at a time: loading the audio encoder…';
    case 'decoding':
      return null;
  }
}

/** The running or last job, or nothing before the first one. */
export function jobView(job: TranscriptionJob, library: Library | undefined) {
  if (!job.running && !job.result && !job.decoding) return nothing;
  const eta = job.etaSec();
  const current = job.windows.at(-1);
  const result = job.result;
  return html`<div data-testid="job" style="margin-top:1rem">
    <div class="row">
      <strong>${job.label}</strong>
      ${job.running ? html`<button @click=${() => job.cancel()} data-testid="cancel">Cancel</button>` : nothing}
    </div>
    ${job.decoding ? html`<div class="muted">Decoding the file…</div>` : nothing}
    ${
      job.failing && job.running
        ? html`<div class="note switch" role="status" data-testid="engine-failing">
            ${job.failing.from} failed at window ${job.failing.index + 1} (${job.failing.reason}); starting the next
            engine for the rest…
          </div>`
        : nothing
    }
    ${job.switches.map(
      (sw) =>
        html`<div class="note switch" role="status" data-testid="engine-switch" data-window=${sw.index}>
          From window ${sw.index + 1} on, this runs on <strong>${sw.to}</strong> because ${sw.from} failed: ${sw.reason}
        </div>`,
    )}
    ${
      job.running
        ? html`<progress max="1" .value=${job.progress} data-testid="transcribe-progress"></progress>
            <div class="muted" data-testid="job-status">
              ${
                phaseText(job) ??
                (current
                  ? `Window ${current.index + 1} of ${job.windowCount} (${formatDuration(current.startSec)}–${formatDuration(current.endSec)})`
                  : 'Starting…')
              }
              ${eta !== null ? ` · about ${formatDuration(eta)} left` : ''}
            </div>`
        : nothing
    }
    ${
      result
        ? html`<div class="muted" data-testid="job-done">
            Done: ${formatDuration(result.audioSec)} of audio in ${(result.totalMs / 1000).toFixed(1)} s
          </div>`
        : nothing
    }
    ${windowList(job.windows)}
    ${
      result
        ? html`<output class="transcript" data-testid="transcript" aria-label="Transcript">${result.text}</output>
            <export-menu
              .segments=${segmentsOf(result.windows)}
              .doc=${(job.docId && library?.get(job.docId)) || null}
              .name=${job.label.replace(/ \([^)]*\)$/, '').replace(/\.[^.]+$/, '') || 'transcript'}
            ></export-menu>`
        : nothing
    }
  </div>`;
}
