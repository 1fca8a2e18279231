/**
 * The OpenAI-compatible transcription API, through the official `openai` client against the real server (tiny model,
 * onnxruntime-node): every response format and the stream give the converter's goldens (WAV) or the CLI's decode of
 * the same file (Opus); errors arrive as the client's typed errors.
 */
import { createReadStream, readFileSync } from 'node:fs';
import OpenAI, { type APIError, AuthenticationError, BadRequestError, NotFoundError, toFile } from 'openai';
import { parseSync } from 'subtitle';
import { decodeHTML } from 'entities';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppServer } from '../../server/server.ts';
import { joinWindowTexts } from '../../src/core/asr/pipeline.ts';
import type { StreamEvent, TranscriptionVerbose } from '../../src/core/remote/openai-api.ts';
import { goldens, type GoldenClip } from '../helpers/goldens.ts';
import { API_MISSING, cliDecode, clipFile, ffmpeg, startTestServer, vttParser } from './helpers.ts';

const KEY = 'test-key-1';
const skip = API_MISSING();

/** Expected per file: the transcript and its windows. */
interface Expected {
  text: string;
  windows: { start: number; end: number; tokens: number[]; text: string }[];
}

const noSpace = (s: string) => s.replace(/\s+/gu, '');

describe.skipIf(Boolean(skip))('POST /v1/audio/transcriptions with the openai client', () => {
  let server: AppServer;
  let client: OpenAI;
  const g = skip ? null : goldens('tiny');
  const cap = g?.max_new_tokens ?? 0;
  const cases: { name: string; file: string; expected: Expected }[] = [];

  beforeAll(async () => {
    server = await startTestServer({ apiKey: KEY, allowOrigins: ['https://app.example'] });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const eos = new Set(g!.eos_token_ids);
    const fromGoldens = (clip: GoldenClip): Expected => ({
      text: joinWindowTexts(clip.windows.map((w) => w.text)),
      windows: clip.windows.map((w) => ({
        start: w.start / 16_000,
        end: w.end / 16_000,
        tokens: w.token_ids.filter((id, i) => !(i === w.token_ids.length - 1 && eos.has(id))),
        text: w.text,
      })),
    });
    // One window ending at EOS (chosen by that property: which clip ends depends on the tiny model's weights), and
    // the two-window 40 s clip.
    const ended = g!.clips.find(
      (c) => c.windows.length === 1 && c.windows[0]!.token_ids.length > 1 && eos.has(c.windows[0]!.token_ids.at(-1)!),
    );
    if (!ended) throw new Error('no golden clip of one window ends at EOS');
    const long = g!.clips.find((c) => c.id === 'long-8k-jfk')!;
    for (const clip of [ended, long])
      cases.push({ name: `${clip.id}.wav`, file: clipFile(clip), expected: fromGoldens(clip) });
    // A compressed format: Opus in Ogg, compared with the CLI's decode of that same file.
    const wav40 = clipFile(long);
    const opus = ffmpeg('long-8k-jfk.ogg', ['-i', wav40, '-c:a', 'libopus', '-b:a', '32k']);
    const ref = cliDecode(opus, cap);
    cases.push({
      name: 'long-8k-jfk.ogg',
      file: opus,
      expected: {
        text: ref.text,
        windows: ref.windows.map((w) => ({
          start: w.start,
          end: w.end,
          tokens: w.token_ids.filter((id, i) => !(i === w.token_ids.length - 1 && eos.has(id))),
          text: w.text,
        })),
      },
    });
  });
  afterAll(() => server?.stop());

  const create = (file: string, extra: Record<string, unknown>) =>
    client.audio.transcriptions.create({
      file: createReadStream(file),
      model: 'tiny',
      ...({ max_new_tokens: cap, ...extra } as object),
    } as OpenAI.Audio.TranscriptionCreateParamsNonStreaming);

  test('json, text, srt, vtt, verbose_json and stream give the reference text', async () => {
    for (const c of cases) {
      const { text, windows } = c.expected;
      expect(text.length, c.name).toBeGreaterThan(10);

      const json = await create(c.file, { response_format: 'json' });
      expect(json.text, `${c.name} json`).toBe(text);

      const plain = (await create(c.file, { response_format: 'text' })) as unknown as string;
      expect(plain, `${c.name} text`).toBe(text);

      const verbose = (await create(c.file, { response_format: 'verbose_json' })) as unknown as TranscriptionVerbose;
      expect(verbose.text).toBe(text);
      expect(verbose.task).toBe('transcribe');
      expect(
        verbose.segments.map((s) => s.tokens),
        `${c.name} verbose tokens`,
      ).toEqual(windows.map((w) => w.tokens));
      expect(verbose.segments.map((s) => s.text)).toEqual(windows.map((w) => w.text));
      for (const [i, s] of verbose.segments.entries()) {
        expect(s.start).toBeCloseTo(windows[i]!.start, 3);
        expect(s.end).toBeCloseTo(windows[i]!.end, 3);
      }
      expect(verbose.duration).toBeCloseTo(windows.at(-1)!.end, 3);
      expect(['english', 'chinese']).toContain(verbose.language);

      const withLang = (await create(c.file, {
        response_format: 'verbose_json',
        language: 'zh',
      })) as unknown as TranscriptionVerbose;
      expect(withLang.language).toBe('chinese');

      // Subtitles: parsed by `subtitle` (SRT and VTT) and validated by webvtt-parser.
      const srt = (await create(c.file, { response_format: 'srt' })) as unknown as string;
      const vtt = (await create(c.file, { response_format: 'vtt' })) as unknown as string;
      const vttCheck = vttParser().parse(vtt);
      expect(vttCheck.errors, `${c.name} vtt errors`).toEqual([]);
      for (const doc of [srt, vtt]) {
        const cues = parseSync(doc).flatMap((n) => (n.type === 'cue' ? [n.data] : []));
        expect(cues.length).toBeGreaterThanOrEqual(windows.length);
        // `subtitle` keeps a VTT cue's character references (`&lt;` for a `<` the model wrote); HTML's decoder reads them.
        const cueText = (q: { text: string }) => (doc === vtt ? decodeHTML(q.text) : q.text);
        expect(noSpace(cues.map(cueText).join(''))).toBe(noSpace(text));
        for (const q of cues) {
          const inside = windows.some((w) => q.start >= w.start * 1000 - 1 && q.end <= w.end * 1000 + 1);
          expect(inside, `${c.name} cue ${q.start}-${q.end} inside a window`).toBe(true);
          expect(q.end - q.start).toBeLessThanOrEqual(7001);
        }
      }
      expect(vttCheck.cues.length).toBe(parseSync(srt).length);

      // Stream: deltas, then done; concatenated deltas = done text = the reference.
      const stream = await client.audio.transcriptions.create({
        file: createReadStream(c.file),
        model: 'tiny',
        stream: true,
        ...({ max_new_tokens: cap } as object),
      });
      const events: StreamEvent[] = [];
      for await (const e of stream) events.push(e as StreamEvent);
      const deltas = events.filter((e) => e.type === 'transcript.text.delta');
      const done = events.at(-1);
      expect(done?.type).toBe('transcript.text.done');
      expect(events.filter((e) => e.type === 'transcript.text.done')).toHaveLength(1);
      expect(deltas.length).toBeGreaterThan(windows.length);
      expect(deltas.map((d) => d.delta).join(''), `${c.name} stream deltas`).toBe(text);
      expect(done?.type === 'transcript.text.done' && done.text).toBe(text);
      console.log(`[${c.name}] ${windows.length} window(s), ${deltas.length} deltas, ${text.length} chars`);
    }
  });

  test('GET /v1/models lists the served models in OpenAI shape', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      expect(m.object).toBe('model');
      ids.push(m.id);
    }
    expect(ids).toContain('tiny');
    expect(ids).toContain('tiny@fp32');
    // The manifest's model_id and id@variant are accepted as `model`.
    const manifest = JSON.parse(readFileSync(`${server.models.root}/tiny/manifest.json`, 'utf8')) as {
      model_id: string;
    };
    const file = cases[0]!.file;
    for (const model of [manifest.model_id, 'tiny@fp32']) {
      const r = await client.audio.transcriptions.create({
        file: createReadStream(file),
        model,
        ...({ max_new_tokens: cap } as object),
      });
      expect(r.text).toBe(cases[0]!.expected.text);
    }
  });

  test('errors are typed: 401, 404, 400', async () => {
    const wav = cases[0]!.file;
    const bad = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    const e401 = await bad.audio.transcriptions.create({ file: createReadStream(wav), model: 'tiny' }).catch((e) => e);
    expect(e401).toBeInstanceOf(AuthenticationError);
    expect((e401 as APIError).code).toBe('invalid_api_key');
    // RFC 9110: a 401 names its scheme; RFC 6750 says which error a wrong token is.
    expect((e401 as APIError).headers?.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const noKey = await fetch(`${server.url}/v1/models`);
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe('missing_api_key');

    const e404 = await client.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'nope' })
      .catch((e) => e);
    expect(e404).toBeInstanceOf(NotFoundError);
    expect((e404 as APIError).code).toBe('model_not_found');
    expect((e404 as APIError).message).toContain('tiny');

    const e400 = await client.audio.transcriptions
      .create({ file: await toFile(Buffer.from('just some notes\n'), 'notes.txt'), model: 'tiny' })
      .catch((e) => e);
    expect(e400).toBeInstanceOf(BadRequestError);
    expect((e400 as APIError).code).toBe('not_audio');
    expect((e400 as APIError).message).toContain('not a readable audio file');

    const fmt = await create(wav, { response_format: 'docx' }).catch((e) => e);
    expect(fmt).toBeInstanceOf(BadRequestError);
    expect((fmt as APIError).code).toBe('invalid_response_format');
  });

  test('CORS only for --allow-origin; the API is readable cross-origin (CORP)', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/audio/transcriptions`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
    const ok = await preflight('https://app.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect((await preflight('https://evil.example')).status).toBe(403);
    const get = (origin: string) =>
      fetch(`${server.url}/v1/models`, { headers: { Origin: origin, Authorization: `Bearer ${KEY}` } });
    const allowed = await get('https://app.example');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    // Another origin is refused before anything runs (a page may send a simple request without a preflight).
    const evil = await get('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});
