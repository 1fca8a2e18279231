/**
 * What the library tells above its list: recordings (or transcriptions) a reload or a crash left unfinished, offered
 * to finish or delete, and a storage problem while keeping a document.  Pure rendering for the library panel.
 */
import { html, nothing } from 'lit';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { TranscriptDocument } from '../../core/format/document.ts';
import { formatDuration } from '../shared/format.ts';
import type { Library } from './library.ts';
import { createdText } from './doc-labels.ts';

/** One notice per unfinished document: *Finish transcription* (once the model is `ready`) or *Delete*. */
export function unfinishedNotices(
  library: Library,
  ready: boolean,
  on: { finish(doc: TranscriptDocument): void; askDelete(doc: TranscriptDocument): void },
) {
  return library.unfinished.map(
    (doc) =>
      html`<div
        class="unfinished"
        role="status"
        data-testid="unfinished"
        data-id=${doc.id}
        data-samples=${doc.audio.samples}
      >
        <strong>${doc.kind === 'recording' ? 'A recording' : 'A transcription'} did not finish</strong>
        (${createdText(doc)}): the page closed ${doc.status === 'recording' ? 'while recording' : 'while transcribing'}.
        ${formatDuration(doc.audio.samples / SAMPLE_RATE_HZ)} of audio
        ${doc.segments.length ? `and ${doc.segments.length} segments ` : ''}were kept.
        <div class="row" style="margin-top:.5rem">
          <button
            class="primary"
            ?disabled=${!ready || doc.audio.samples === 0}
            @click=${() => on.finish(doc)}
            data-testid="finish-unfinished"
          >
            Finish transcription
          </button>
          <button @click=${() => on.askDelete(doc)} data-testid="delete-unfinished">Delete</button>
          ${
            doc.audio.samples === 0
              ? html`<span class="muted">No audio was kept: there is nothing to transcribe.</span>`
              : ready
                ? nothing
                : html`<span class="muted">Load the model to finish it.</span>`
          }
        </div>
      </div>`,
  );
}

/** A storage problem while keeping a document (its audio, or a change to it): what happened and what to do. */
export function storageProblemNotice(library: Library) {
  const p = library.audioProblem;
  if (!p) return nothing;
  const full = p.error.code === 'STORAGE_FULL';
  const [testId, title, body] =
    p.what === 'document'
      ? [
          'library-doc-error',
          'A transcript could not be saved in the library.',
          `${full ? 'Storage is full: free space in Settings → Storage.' : 'This browser refused to store it.'} What is on screen is still there: save or copy it before you close the page.`,
        ]
      : [
          'library-audio-error',
          full ? 'Storage is full: the rest of this audio is not being kept' : 'The audio could not be kept',
          `${p.keptSec >= 0 ? `${formatDuration(p.keptSec)} of audio were kept in the library` : 'What was written before is kept'}. The recording goes on in this page's memory: save it (Download recording) before you close the page, or free space in Settings.`,
        ];
  return html`<div class="alert" role="alert" data-testid=${testId} data-error-code=${p.error.code}>
    <strong>${title}</strong>
    ${body}
    <details>
      <summary>Details</summary>
      ${p.error.code}: ${p.error.detail}
    </details>
    <div class="row" style="margin-top:.35rem">
      <button @click=${() => library.dismissAudioProblem()}>OK</button>
    </div>
  </div>`;
}
