/**
 * The API under bad input and bad clients, the server still answering /healthz after each: oversize, not audio,
 * truncated, random, empty, silent and too long uploads (typed errors of the `openai` client), a slowloris client
 * (headers trickled), a stalled body and a body trickled a byte at a time, closed near the configured timeouts; 50
 * concurrent requests behind a running job against `--queue 8` (exactly the free places accepted, every other one a
 * 429 with Retry-After), a client that disconnects mid-job (the job stops), HTTPS, and one remote address holding
 * uploads open (stopped at half the places, while a client on this machine is still served).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import OpenAI, { APIError, BadRequestError, RateLimitError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppServer } from '../../server/server.ts';
import { encodeWav16 } from '../../src/core/dsp/wav.ts';
import { speechPath } from '../helpers/data.ts';
import { goldens } from '../helpers/goldens.ts';
import { API_MISSING, clipFile, ffmpeg, health, part, postHead, rawRequest, startTestServer, TMP } from './helpers.ts';

const skip = API_MISSING();
const TIMEOUT_MS = 1500;

/** Milliseconds until the server closes a raw socket that sends `first` and then `trickle` bytes every 200 ms. */
function timeToClose(port: number, first: string, trickle: string): Promise<{ ms: number; reply: string }> {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(first));
    const timer = setInterval(() => socket.writable && socket.write(trickle), 200);
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolvePromise({ ms: performance.now() - t0, reply });
    });
  });
}

describe.skipIf(Boolean(skip))('the API under bad input and bad clients', () => {
  let server: AppServer;
  let client: OpenAI;
  const cap = skip ? 0 : goldens('tiny').max_new_tokens;
  let jfk: string;

  beforeAll(async () => {
    server = await startTestServer({
      maxUploadMb: 2,
      maxAudioMin: 12,
      concurrency: 1,
      queue: 8,
      headersTimeoutMs: TIMEOUT_MS,
      bodyIdleTimeoutMs: TIMEOUT_MS,
    });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    jfk = clipFile(goldens('tiny').clips.find((c) => c.id === 'jfk')!);
  });
  afterAll(() => server?.stop());

  const transcribe = (file: Parameters<OpenAI['audio']['transcriptions']['create']>[0]['file'], signal?: AbortSignal) =>
    client.audio.transcriptions.create(
      { file, model: 'tiny', ...({ max_new_tokens: cap } as object) },
      signal ? { signal } : {},
    );

  async function stillUp() {
    expect((await health(server)).ok).toBe(true);
  }

  test('bad uploads get a specific 400 or 413, and the server goes on', async () => {
    const wav = readFileSync(jfk);
    // 13 min at 1 kHz, 8-bit (780 kB): decoded through ffmpeg, which stops just past the limit.
    const tooLong = ffmpeg('too-long.wav', ['-f', 'lavfi', '-i', 'sine=f=200:d=780', '-ar', '1000', '-c:a', 'pcm_u8']);
    const cases: { name: string; file: () => Promise<unknown>; status: number; code: string; says: string }[] = [
      {
        name: 'oversize',
        file: () => toFile(randomBytes(5 << 20), 'big.wav'),
        status: 413,
        code: 'file_too_large',
        says: 'limit of 2 MB',
      },
      {
        name: 'text',
        file: () => toFile(Buffer.from('notes\n'), 'notes.txt'),
        status: 400,
        code: 'not_audio',
        says: 'not a readable audio file',
      },
      {
        name: 'truncated WAV',
        file: () => toFile(wav.subarray(0, 40), 'cut.wav'),
        status: 400,
        code: 'invalid_wav',
        says: 'no data chunk',
      },
      {
        name: 'header-only WAV',
        file: () => toFile(wav.subarray(0, 44), 'head.wav'),
        status: 400,
        code: 'no_audio',
        says: 'no audio samples',
      },
      {
        name: 'random bytes',
        file: () => toFile(randomBytes(100_000), 'noise.mp3'),
        status: 400,
        code: 'not_audio',
        says: 'not a readable audio file',
      },
      {
        name: 'empty',
        file: () => toFile(Buffer.alloc(0), 'empty.wav'),
        status: 400,
        code: 'empty_file',
        says: 'the file is empty',
      },
      {
        name: 'silent',
        file: () => toFile(encodeWav16(new Float32Array(32_000), 16_000), 'quiet.wav'),
        status: 400,
        code: 'silent_audio',
        says: 'silent',
      },
      {
        name: 'too long (13 min)',
        file: async () => createReadStream(tooLong),
        status: 413,
        code: 'audio_too_long',
        says: 'limit of 12 min',
      },
    ];
    for (const c of cases) {
      const err = await transcribe((await c.file()) as never).catch((e: unknown) => e);
      expect(err, c.name).toBeInstanceOf(APIError);
      const e = err as APIError;
      expect([e.status, e.code], c.name).toEqual([c.status, c.code]);
      expect(e.message, c.name).toContain(c.says);
      if (c.status === 400) expect(e, c.name).toBeInstanceOf(BadRequestError);
      await stillUp();
    }
  });

  test('a 50 MB body is refused from its Content-Length, before it is sent', async () => {
    const r = await new Promise<string>((done) => {
      let reply = '';
      const socket = connect(server.port, '127.0.0.1', () =>
        socket.write(
          `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
            `Content-Length: ${50 << 20}\r\n\r\n--b\r\n`,
        ),
      );
      socket.on('data', (d) => (reply += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => done(reply));
    });
    expect(r).toMatch(/^HTTP\/1\.1 413 /);
    expect(r).toContain('"code":"file_too_large"');
    await stillUp();
  });

  test('slowloris: trickled headers and a stalled body are closed near the timeout', async () => {
    const headers = await timeToClose(
      server.port,
      `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`,
      'X',
    );
    console.log(`trickled headers closed after ${headers.ms.toFixed(0)} ms (headers timeout ${TIMEOUT_MS} ms)`);
    expect(headers.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(headers.ms).toBeLessThan(TIMEOUT_MS + 800);
    expect(headers.reply).toMatch(/^HTTP\/1\.1 408 /);

    const body = await timeToClose(
      server.port,
      `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
        'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="model"\r\n\r\ntiny\r\n',
      '',
    );
    console.log(`stalled body closed after ${body.ms.toFixed(0)} ms (body idle timeout ${TIMEOUT_MS} ms)`);
    expect(body.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(body.ms).toBeLessThan(TIMEOUT_MS + 500);
    expect(body.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(body.reply).toContain('"code":"body_timeout"');
    await stillUp();
  });

  test('an upload trickling a byte at a time is closed once the idle time has passed', async () => {
    // A byte every 200 ms never trips the idle timeout; below 8 KiB/s on average it holds a place for nothing.
    const head = postHead(server.port, {
      'Content-Type': 'multipart/form-data; boundary=b',
      'Content-Length': 100_000,
    });
    const r = await rawRequest(server.port, [head, part('b', 'model', 'tiny'), ...Array<string>(60).fill('x')], {
      gapMs: 200,
    });
    console.log(`trickled body closed after ${r.ms.toFixed(0)} ms (body idle timeout ${TIMEOUT_MS} ms)`);
    expect(r.status).toBe(408);
    expect(r.reply).toContain('"code":"upload_too_slow"');
    expect(r.reply).toContain('this server needs at least 8192 bytes/s');
    // The check runs every TIMEOUT_MS / 4 once TIMEOUT_MS have passed: measured 1740 ms alone, 2021 ms beside six
    // other server test files; without the rate floor it would stay open for the whole request timeout.
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 1000);
    expect((await health(server)).jobs).toEqual({ running: 0, queued: 0, uploading: 0 });
  });

  test('50 concurrent requests against --concurrency 1 --queue 8: exactly the 8 free places are taken, 42 × 429', async () => {
    // A long job holds the one running slot first, so no place frees while the 50 arrive: the queue's arithmetic
    // then says exactly how many are accepted (1 + 8 = 9 places, the blocker has one).
    const blockerFile = ffmpeg('jfk-x60.mp3', [
      ...['-stream_loop', '59', '-i', speechPath('en/jfk.wav')],
      ...['-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '16k'], // 1.3 MB, under --max-upload-mb 2
    ]);
    const blockerAbort = new AbortController();
    const blocker = transcribe(createReadStream(blockerFile), blockerAbort.signal).catch((e: unknown) => e);
    let jobs = (await health(server)).jobs;
    for (let i = 0; i < 200 && !jobs.running; i++) {
      await new Promise((r) => setTimeout(r, 10));
      jobs = (await health(server)).jobs;
    }
    expect(jobs, String(jobs.running ? '' : await blocker)).toEqual({ running: 1, queued: 0, uploading: 0 });

    const bytes = readFileSync(jfk);
    const expected = joinedText();
    let refused = 0;
    let mostAtOnce = 0;
    const watch = setInterval(() => {
      const q = server.jobs;
      mostAtOnce = Math.max(mostAtOnce, q.running + q.queued + q.uploading);
    }, 1);
    const t0 = performance.now();
    const all = Promise.all(
      Array.from({ length: 50 }, async () => {
        try {
          return { status: 200, text: (await transcribe(await toFile(bytes, 'jfk.wav'))).text };
        } catch (e) {
          refused++;
          return { status: e instanceof APIError ? e.status : 0, error: e };
        }
      }),
    );
    // Every refusal comes at once (before its upload is read); the accepted wait behind the blocker.
    for (let i = 0; i < 500 && refused < 42; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100)); // room for a 43rd refusal, which would be a bug
    const settled = { refused, ms: performance.now() - t0, jobs: (await health(server)).jobs };
    blockerAbort.abort();
    const results = await all;
    clearInterval(watch);
    expect(await blocker).toBeInstanceOf(Error);
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status === 429);
    console.log(
      `50 concurrent behind a running job: ${busy.length} × 429 within ${settled.ms.toFixed(0)} ms, then ` +
        `${ok.length} × 200; at most ${mostAtOnce} requests held at once (places: 9)`,
    );
    expect(settled.refused).toBe(42);
    expect(settled.jobs).toEqual({ running: 1, queued: 8, uploading: 0 });
    expect(mostAtOnce).toBe(9);
    expect(ok.length).toBe(8);
    for (const r of ok) expect(r.text).toBe(expected);
    expect(busy.length).toBe(42);
    for (const r of busy) {
      const e = r.error as RateLimitError;
      expect(e).toBeInstanceOf(RateLimitError);
      expect(e.code).toBe('queue_full');
      expect(e.headers?.get('retry-after')).toMatch(/^[1-9]\d*$/);
    }
    expect((await health(server)).jobs).toEqual({ running: 0, queued: 0, uploading: 0 });
  });

  function joinedText(): string {
    return goldens('tiny').clips.find((c) => c.id === 'jfk')!.windows[0]!.text;
  }

  test('a client that disconnects mid-job stops its job', async () => {
    // ~5 minutes of speech (10 windows): seconds of work on the tiny model.
    const longFile = ffmpeg('jfk-x28.mp3', [
      '-stream_loop',
      '27',
      '-i',
      speechPath('en/jfk.wav'),
      '-c:a',
      'libmp3lame',
      '-b:a',
      '32k',
    ]);
    const abort = new AbortController();
    const t0 = performance.now();
    const stream = await client.audio.transcriptions.create(
      { file: createReadStream(longFile), model: 'tiny', stream: true, ...({ max_new_tokens: cap } as object) },
      { signal: abort.signal },
    );
    let first = 0;
    try {
      for await (const e of stream) {
        if (e.type === 'transcript.text.delta') {
          first = performance.now() - t0;
          break; // leaves the stream: the client closes the connection
        }
      }
    } catch {
      // aborted
    }
    abort.abort();
    const tGone = performance.now();
    let running = 1;
    while (running && performance.now() - tGone < 5000) {
      running = (await health(server)).jobs.running;
      if (running) await new Promise((r) => setTimeout(r, 20));
    }
    const stopMs = performance.now() - tGone;
    // The next request is served at once (with --concurrency 1 it would wait for ~10 windows otherwise).
    const t1 = performance.now();
    const next = await transcribe(createReadStream(jfk));
    const nextMs = performance.now() - t1;
    console.log(
      `first delta after ${first.toFixed(0)} ms; job gone ${stopMs.toFixed(0)} ms after the disconnect; next request ${nextMs.toFixed(0)} ms`,
    );
    expect(running).toBe(0);
    expect(stopMs).toBeLessThan(500);
    expect(next.text).toBe(joinedText());
    expect(nextMs).toBeLessThan(1000);
  });

  test('HTTPS with a self-signed certificate: trusted with its CA, refused without', async () => {
    const key = resolve(TMP, 'key.pem');
    const cert = resolve(TMP, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = await startTestServer({ tlsCert: cert, tlsKey: key, preload: [] });
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const get = (path: string, ca?: Buffer) =>
        new Promise<{ status: number; body: string }>((done, fail) => {
          const req = httpsRequest(`${tls.url}${path}`, { ...(ca ? { ca } : {}) }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => done({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', fail);
          req.end();
        });
      const ca = readFileSync(cert);
      expect(await get('/healthz', ca)).toMatchObject({ status: 200 });
      const models = await get('/v1/models', ca);
      expect(JSON.parse(models.body).data.map((m: { id: string }) => m.id)).toContain('tiny');
      await expect(get('/healthz')).rejects.toThrow(/self-signed|self signed/);
    } finally {
      await tls.stop();
    }
  });
});

describe.skipIf(skip)('memory bounds', () => {
  test('--max-loaded: a variant not loaded yet beyond the limit is a 503 model_capacity naming the loaded ones', async () => {
    const small = await startTestServer({ maxLoaded: 1 });
    try {
      const client = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const file = await toFile(readFileSync(speechPath('en/jfk.wav')), 'jfk.wav');
      const err = await client.audio.transcriptions.create({ file, model: 'tiny@q4' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(503);
      expect((err as APIError).code).toBe('model_capacity');
      expect((err as APIError).message).toContain('tiny@fp32');
      // The loaded one still answers, and nothing else was loaded.
      const ok = await client.audio.transcriptions.create({ file, model: 'tiny@fp32' });
      expect(typeof ok.text).toBe('string');
      expect(small.models.loadedKeys()).toEqual(['tiny@fp32']);
    } finally {
      await small.stop();
    }
  });
});

/** This machine's first non-loopback IPv4 address: a peer that is not loopback when it connects to itself there. */
const LAN = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address;

describe.skipIf(Boolean(skip) || !LAN)('one remote address cannot hold every place', () => {
  test('uploads in progress from one address stop at half the places; loopback is not limited', async () => {
    // --concurrency 1 --queue 8: 9 places, so 5 uploads in progress per address.
    const srv = await startTestServer({ host: '0.0.0.0', concurrency: 1, queue: 8, bodyIdleTimeoutMs: 10_000 });
    const held: Socket[] = [];
    try {
      const head = postHead(srv.port, {
        Host: `${LAN}:${srv.port}`,
        'Content-Type': 'multipart/form-data; boundary=b',
        'Content-Length': 100_000,
      });
      for (let i = 0; i < 5; i++) {
        const socket = connect(srv.port, LAN!, () =>
          socket.write(Buffer.concat([Buffer.from(head), part('b', 'model', 'tiny')])),
        );
        socket.on('error', () => undefined);
        held.push(socket);
      }
      const local = `http://127.0.0.1:${srv.port}`;
      let jobs = (await health({ url: local })).jobs;
      for (let i = 0; i < 200 && jobs.uploading < 5; i++) {
        await new Promise((r) => setTimeout(r, 10));
        jobs = (await health({ url: local })).jobs;
      }
      expect(jobs).toEqual({ running: 0, queued: 0, uploading: 5 });

      const sixth = await rawRequest(srv.port, [head, part('b', 'model', 'tiny')], { host: LAN! });
      expect(sixth.status).toBe(429);
      expect(sixth.reply).toContain('"code":"too_many_uploads"');
      expect(sixth.reply).toMatch(/\r\nRetry-After: [1-9]\d*\r\n/i);

      // The other 4 places are there for everyone else: a client on this machine is served.
      const client = new OpenAI({ baseURL: `${local}/v1`, apiKey: 'unused', maxRetries: 0 });
      const clip = goldens('tiny').clips.find((c) => c.id === 'jfk')!;
      const r = await client.audio.transcriptions.create({
        file: createReadStream(clipFile(clip)),
        model: 'tiny',
        ...({ max_new_tokens: goldens('tiny').max_new_tokens } as object),
      });
      expect(r.text).toBe(clip.windows[0]!.text);

      for (const socket of held) socket.destroy();
      for (let i = 0; i < 200 && jobs.uploading; i++) {
        await new Promise((r) => setTimeout(r, 10));
        jobs = (await health({ url: local })).jobs;
      }
      expect(jobs).toEqual({ running: 0, queued: 0, uploading: 0 });
    } finally {
      for (const socket of held) socket.destroy();
      await srv.stop();
    }
  });
});
