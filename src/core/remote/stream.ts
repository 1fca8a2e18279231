/**
 * The answer to a `stream=true` transcription request: server-sent events in OpenAI's shape
 * (`transcript.text.delta` … `transcript.text.done`) or vLLM's chat-style chunks (`choices[0].delta.content` …
 * `[DONE]`), turned into `token` events as text arrives and the window's final text.  A stream never counts as a
 * success before its end marker: a cut-off one is transient, one in a shape this client does not know moves the
 * client to JSON.  Isomorphic.
 */
import type { TranscribeEvent } from '../asr/contract.ts';
import { BackendUnavailable } from '../asr/window-transcriber.ts';
import { seconds, TransientError, type HttpAnswer } from '../net/http.ts';
import { sseData } from '../net/sse.ts';
import { Unsupported } from './capabilities.ts';
import type { StreamEvent } from './openai-api.ts';

/** Every stream event shape read: OpenAI's (StreamEvent), an error, and vLLM's chat-style chunks. */
type AnyStreamEvent = {
  type?: StreamEvent['type'] | 'error';
  delta?: string;
  text?: string;
  error?: { message?: string };
  choices?: { delta?: { content?: string | null } }[];
};

export interface StreamRead {
  /** The request's URL, for messages. */
  url: string;
  /** The request's time limit, for the message when the body broke off because of it. */
  timeoutMs: number;
  /** Window index of the `token` events. */
  index: number;
  /** The per-window token cap the `token` events report (a progress hint). */
  cap: number;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TranscribeEvent) => void) | undefined;
}

/** Reads `answer`'s event stream to its end.  Throws TransientError, Unsupported, BackendUnavailable or the abort. */
export async function readTranscriptStream(
  answer: HttpAnswer,
  read: StreamRead,
): Promise<{ text: string; tokenIds: number[] }> {
  const { url, index, cap } = read;
  const body = answer.response.body;
  if (!body) {
    answer.done();
    throw new BackendUnavailable('server', 'server-error', `${url} answered an event stream without a body`);
  }
  let text = '';
  let generated = 0;
  /** vLLM streams chat-style chunks (`choices[0].delta.content`) and ends with `[DONE]`. */
  let chunks = false;
  /** Events this client understood the JSON of (a stream that ends before any is a broken one, not a shape). */
  let parsed = 0;
  const delta = (piece: string) => {
    text += piece;
    generated++;
    // Server text is trimmed like the pipeline's (vLLM and Whisper-style servers often start with a space).
    read.onEvent?.({ type: 'token', index, tokenId: -1, text: text.trimStart(), generated, cap });
  };
  try {
    for await (const data of sseData(body)) {
      if (data.trim() === '[DONE]') {
        if (chunks) return { text: text.trim(), tokenIds: [] };
        if (generated > 0) {
          // OpenAI-shaped deltas but no transcript.text.done: the final text is unknown, so ask in JSON instead.
          throw new Unsupported('verbose_json', `${url} ended its event stream without transcript.text.done`);
        }
        continue;
      }
      let event: AnyStreamEvent;
      try {
        event = JSON.parse(data) as AnyStreamEvent;
      } catch {
        continue;
      }
      parsed++;
      const content = event.choices?.[0]?.delta?.content;
      if (event.type === 'transcript.text.delta' && typeof event.delta === 'string') {
        delta(event.delta);
      } else if (event.type === 'transcript.text.done' && typeof event.text === 'string') {
        return { text: event.text.trim(), tokenIds: [] };
      } else if (event.type === 'error' || event.error) {
        throw new TransientError(
          'server-error',
          `${url} reported an error mid-stream: ${event.error?.message ?? data}`,
        );
      } else if (typeof content === 'string') {
        chunks = true;
        if (content) delta(content);
      }
    }
  } catch (err) {
    if (read.signal?.aborted) throw read.signal.reason;
    if (err instanceof TransientError || err instanceof Unsupported) throw err;
    if (answer.timedOut())
      throw new TransientError('server-unreachable', `${url}: no complete answer within ${seconds(read.timeoutMs)}`);
    throw new TransientError('server-unreachable', `${url}: the event stream broke off (${String(err)})`, undefined, {
      cause: err,
    });
  } finally {
    answer.done();
    body.cancel().catch(() => {});
  }
  if (generated === 0 && parsed > 0 && !chunks) {
    // A stream in a shape this client does not know: ask for JSON from now on.
    throw new Unsupported('verbose_json', `${url} answered an event stream in an unknown shape`);
  }
  // Cut off before its end marker (a proxy closing early): never a partial text as a success.
  throw new TransientError('server-unreachable', `${url}: the event stream ended before its end (done or [DONE])`);
}
