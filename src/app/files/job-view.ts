import { html, nothing } from 'lit';
import type { WindowResult } from '../../core/asr/contract.ts';
import { formatDuration } from '../shared/format.ts';

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
 * A file job's windows: times, the engine badge, the precision fallback badge, and the text.  Test hooks per window:
 * `data-window`, `data-done`, `data-engine`, `data-token-ids`, `data-timings`, and `data-text` once done.
 */
export function windowList(windows: readonly JobWindow[]) {
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
