/**
 * A multipart body cut short never takes the server down.  The server runs as its own process (its command line), so
 * a crash is seen as the process ending: bodies that stop before the closing boundary (with a Content-Length, chunked,
 * in a part of another name with a filename, after a complete part) each get a 400 `invalid_multipart`, a client
 * that vanishes mid-part gets nothing and costs nothing, and after every case /healthz answers and the process lives.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { speechPath } from '../helpers/data.ts';
import { API_MISSING, type ChildServer, health, part, postHead, rawRequest, startChildServer } from './helpers.ts';

const skip = API_MISSING();
const B = 'XBOUND';
const TYPE = `multipart/form-data; boundary=${B}`;

/** `body` as one chunk of a chunked body, then the last chunk. */
const chunked = (body: Buffer) =>
  Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);

describe.skipIf(Boolean(skip))('a multipart body cut short, against the server process', () => {
  let server: ChildServer;
  let wav: Buffer;

  beforeAll(async () => {
    server = await startChildServer(['--quiet', '--body-idle-timeout-s', '2']);
    wav = readFileSync(speechPath('en/jfk.wav'));
  }, 90_000);
  afterAll(() => server?.stop());

  async function alive(what: string) {
    expect(server.exit, `${what}: the server process ended\n${server.log()}`).toBeNull();
    const h = await health(server);
    expect(h.ok, what).toBe(true);
  }

  test('each truncated body is a 400 invalid_multipart and the process lives', async () => {
    const head = (body: Buffer) => [postHead(server.port, { 'Content-Type': TYPE, 'Content-Length': body.length })];
    const chunkedHead = [postHead(server.port, { 'Content-Type': TYPE, 'Transfer-Encoding': 'chunked' })];
    // The body that once crashed the server: a file part whose data runs to the end of the body.
    const cut = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....`);
    const cutOther = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="audio"; filename="x.wav"\r\n\r\nRIFF....`,
    );
    const wholePartsNoEnd = Buffer.concat([part(B, 'model', 'tiny'), part(B, 'file', wav, 'jfk.wav')]);
    const cases: { name: string; parts: (string | Buffer)[] }[] = [
      { name: 'Content-Length, body ends inside the file part', parts: [...head(cut), cut] },
      { name: 'chunked, body ends inside the file part', parts: [...chunkedHead, chunked(cut)] },
      { name: 'a part named audio with a filename, cut', parts: [...head(cutOther), cutOther] },
      { name: 'chunked, a part named audio, cut', parts: [...chunkedHead, chunked(cutOther)] },
      { name: 'whole parts, no closing boundary', parts: [...head(wholePartsNoEnd), wholePartsNoEnd] },
      { name: 'chunked, whole parts, no closing boundary', parts: [...chunkedHead, chunked(wholePartsNoEnd)] },
    ];
    for (const c of cases) {
      const r = await rawRequest(server.port, c.parts);
      expect(r.status, `${c.name}: ${r.reply}`).toBe(400);
      expect(r.reply, c.name).toContain('"code":"invalid_multipart"');
      expect(r.reply, c.name).toContain('Unexpected end of form');
      await alive(c.name);
    }
    expect(server.log()).not.toMatch(/Unhandled|at \w+ \(/);
  });

  test('a client that vanishes inside the file part costs nothing', async () => {
    const start = Buffer.concat([part(B, 'model', 'tiny'), part(B, 'file', wav, 'jfk.wav')]).subarray(0, 40_000);
    for (const destroyAfterMs of [0, 50]) {
      const r = await rawRequest(
        server.port,
        [postHead(server.port, { 'Content-Type': TYPE, 'Content-Length': 400_000 }), start],
        { destroyAfterMs },
      );
      expect(r.status).toBe(0); // no answer: the client left first
      await alive(`vanished after ${destroyAfterMs} ms`);
    }
    // The places its upload held are free again.
    let jobs = (await health(server)).jobs;
    for (let i = 0; i < 50 && jobs.uploading; i++) {
      await new Promise((r) => setTimeout(r, 20));
      jobs = (await health(server)).jobs;
    }
    expect(jobs).toEqual({ running: 0, queued: 0, uploading: 0 });
  });
});
