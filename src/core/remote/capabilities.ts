/**
 * Which request form an OpenAI-compatible server takes, detected once per server client: `stream=true` (server-sent
 * events, text as it is decoded), else `response_format=verbose_json` (token ids), else plain `json`.  A form the
 * server turns down moves the client to the next one for this and every later window.  Isomorphic.
 */

/** How the server client asks for results: the first form the server accepts, remembered per client. */
export type RemoteMode = 'stream' | 'verbose_json' | 'json';

/** The server does not take this request form: ask again at once in `next`. */
export class Unsupported extends Error {
  constructor(
    readonly next: RemoteMode,
    message: string,
  ) {
    super(message);
  }
}

/** A 400 that says the server does not stream (not a bad-input message that happens to say "stream"). */
const UNSUPPORTED_STREAM =
  /\bstream(ing)?\b[^.]*\b(not supported|unsupported|not allowed|not implemented)|\b(does not|doesn't|cannot) stream/i;

/**
 * The form to try after a 400/422 answer to a request in `mode` (`body` the error body, `message` its message), or
 * null when the answer is about the input, not the form.
 */
export function nextModeAfterRefusal(mode: RemoteMode, body: string, message: string): RemoteMode | null {
  let param: unknown;
  try {
    param = (JSON.parse(body) as { error?: { param?: unknown } }).error?.param;
  } catch {
    param = undefined;
  }
  if (mode === 'stream' && (param === 'stream' || UNSUPPORTED_STREAM.test(message))) return 'verbose_json';
  if (mode === 'verbose_json' && (param === 'response_format' || /response_format|verbose_json/i.test(message)))
    return 'json';
  return null;
}
