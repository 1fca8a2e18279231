/**
 * Server-sent events (the `text/event-stream` format) from a fetch body.  Only `data:` lines carry what the server
 * client reads; comments, `event:`, `id:` and `retry:` are skipped.  Isomorphic: ReadableStream and TextDecoder only.
 */

/** Each event's `data` (multi-line data joined by \n), in order; an event cut off by the end of the body included. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
        if (buffer[at] === '\r' && at === buffer.length - 1 && !done) break;
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + (buffer.startsWith('\r\n', at) ? 2 : 1));
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5));
        } // comments (":"), event:, id:, retry: carry nothing we use
      }
      if (done) break;
    }
    if (data.length) yield data.join('\n');
  } finally {
    reader.releaseLock();
  }
}
