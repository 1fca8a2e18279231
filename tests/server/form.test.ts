/**
 * What the transcription form may hold, against the real server (tiny model): the `file` part is found among file
 * parts of other names (those are read and dropped), two `file` parts or a `file` text field are a clear 400; fields
 * named `__proto__` or `constructor` are plain fields, and a file name is quoted in messages cut to 100 characters;
 * prototype names (`constructor`, `__proto__`) are neither models, variants nor languages; only the promised audio
 * containers reach a decoder (AIFF, AU, CAF: 400 `unsupported_format`; the same audio as FLAC is transcribed); and
 * error messages name model ids, never the server's directories.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppServer } from '../../server/server.ts';
import { goldens } from '../helpers/goldens.ts';
import { API_MISSING, clipFile, ffmpeg, health, modelsRoot, startTestServer, TMP } from './helpers.ts';

const skip = API_MISSING();

interface Answer {
  status: number;
  body: { text?: string; error?: { code: string; message: string; param: string | null } };
}

/** POST the form built by `fill` (the model and token cap are added) and read the JSON answer. */
async function post(server: AppServer, fill: (form: FormData) => void, model = 'tiny'): Promise<Answer> {
  const form = new FormData();
  form.append('model', model);
  form.append('max_new_tokens', String(goldens('tiny').max_new_tokens));
  fill(form);
  const r = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
  return { status: r.status, body: (await r.json()) as Answer['body'] };
}

const blob = (bytes: Buffer | string) => new Blob([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)]);

describe.skipIf(Boolean(skip))('the transcription form', () => {
  let server: AppServer;
  let wav: Buffer;
  let expected: string;

  beforeAll(async () => {
    server = await startTestServer();
    const clip = goldens('tiny').clips.find((c) => c.id === 'jfk')!;
    wav = readFileSync(clipFile(clip));
    expected = clip.windows[0]!.text;
  });
  afterAll(() => server?.stop());

  test('the `file` part is found among other file parts; two of it, or a text field, are a 400', async () => {
    const other = await post(server, (f) => {
      f.append('audio', blob('not audio at all'), 'x.txt');
      f.append('attachment', blob(wav), 'copy.wav');
      f.append('file', blob(wav), 'jfk.wav');
    });
    expect(other).toEqual({ status: 200, body: expect.objectContaining({ text: expected }) });

    const twice = await post(server, (f) => {
      f.append('file', blob(wav), 'a.wav');
      f.append('file', blob(wav), 'b.wav');
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({ code: 'duplicate_file', param: 'file' });
    expect(twice.body.error?.message).toContain('more than one `file` part');

    const field = await post(server, (f) => f.append('file', 'jfk.wav'));
    expect(field.status).toBe(400);
    expect(field.body.error).toMatchObject({ code: 'missing_file', param: 'file' });
    expect(field.body.error?.message).toContain('came as a text field');

    const many = await post(server, (f) => {
      for (let i = 0; i < 8; i++) f.append(`extra${i}`, blob('x'), `${i}.txt`);
      f.append('file', blob(wav), 'jfk.wav');
    });
    expect(many.status).toBe(400);
    expect(many.body.error).toMatchObject({ code: 'too_many_parts' });
    expect(many.body.error?.message).toContain('more than 8 file parts');
    expect((await health(server)).jobs).toEqual({ running: 0, queued: 0, uploading: 0 });
  });

  test('fields named after prototype members are plain fields; a long file name is cut in messages', async () => {
    const proto = await post(server, (f) => {
      f.append('__proto__', '{"model":"nope"}');
      f.append('constructor', 'x');
      f.append('toString', 'x');
      f.append('file', blob(wav), 'jfk.wav');
    });
    expect(proto).toEqual({ status: 200, body: expect.objectContaining({ text: expected }) });

    const long = await post(server, (f) => f.append('file', blob('not audio\n'), `${'n'.repeat(5000)}.txt`));
    expect(long.status).toBe(400);
    expect(long.body.error?.code).toBe('not_audio');
    const quoted = long.body.error!.message.split(': ')[0]!;
    expect(quoted).toBe(`${'n'.repeat(99)}…`);
  });

  test('prototype names are not models, variants or languages', async () => {
    const file = (f: FormData) => f.append('file', blob(wav), 'jfk.wav');
    for (const model of ['fake@constructor', 'constructor', '__proto__', 'tiny@constructor', 'tiny@__proto__']) {
      const r = await post(server, file, model);
      expect(r.status, model).toBe(404);
      expect(r.body.error, model).toMatchObject({ code: 'model_not_found', param: 'model' });
      expect(r.body.error?.message, model).toContain(
        JSON.stringify(model.startsWith('tiny@') ? model.slice(5) : model),
      );
    }
    for (const language of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await post(server, (f) => {
        file(f);
        f.append('language', language);
      });
      expect(r.status, language).toBe(400);
      expect(r.body.error, language).toMatchObject({ code: 'invalid_language', param: 'language' });
      expect(r.body.error?.message, language).toContain('is not an ISO-639-1 code');
    }
  });

  test('repetition_guard (extension) is true or false; anything else is a 400 naming it', async () => {
    const file = (f: FormData) => f.append('file', blob(wav), 'jfk.wav');
    for (const value of ['maybe', '2', 'constructor']) {
      const r = await post(server, (f) => {
        file(f);
        f.append('repetition_guard', value);
      });
      expect(r.status, value).toBe(400);
      expect(r.body.error, value).toMatchObject({ code: 'invalid_repetition_guard', param: 'repetition_guard' });
    }
    for (const value of ['false', 'TRUE', '0']) {
      const r = await post(server, (f) => {
        file(f);
        f.append('repetition_guard', value);
      });
      expect(r.status, value).toBe(200);
    }
    // Unguarded, a window may decode at most a full window's default cap (32 + 10 per second of 30 s).
    const over = await post(server, (f) => {
      file(f);
      f.append('repetition_guard', 'false');
      f.append('max_new_tokens', '333');
    });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'invalid_max_new_tokens', param: 'max_new_tokens' });
    expect(over.body.error?.message).toContain('at most 332');
  });

  test('only the promised containers are decoded: AIFF, AU and CAF are a 400, the same audio as FLAC is not', async () => {
    const source = clipFile(goldens('tiny').clips.find((c) => c.id === 'jfk')!);
    for (const ext of ['aiff', 'au', 'caf']) {
      const bytes = readFileSync(ffmpeg(`jfk.${ext}`, ['-i', source]));
      const r = await post(server, (f) => f.append('file', blob(bytes), `jfk.${ext}`));
      expect(r.status, ext).toBe(400);
      expect(r.body.error, ext).toMatchObject({ code: 'unsupported_format', param: 'file' });
      expect(r.body.error?.message, ext).toContain('this container is not accepted here; send WAV, MP3');
    }
    // FLAC is lossless: the goldens' text exactly.
    const flac = readFileSync(ffmpeg('jfk.flac', ['-i', source]));
    expect(await post(server, (f) => f.append('file', blob(flac), 'jfk.flac'))).toEqual({
      status: 200,
      body: expect.objectContaining({ text: expected }),
    });
  });
});

describe.skipIf(Boolean(skip))('error messages name model ids, never server directories', () => {
  const root = resolve(TMP, 'models-private');
  let server: AppServer;

  beforeAll(async () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    // A model whose graphs are not ONNX: the load fails inside onnxruntime, whose message names the file.
    cpSync(resolve(modelsRoot(), 'tiny'), resolve(root, 'broken'), { recursive: true });
    for (const name of readdirSync(resolve(root, 'broken', 'onnx')))
      writeFileSync(resolve(root, 'broken', 'onnx', name), 'not a graph');
    server = await startTestServer({ models: root, preload: [] });
  });
  afterAll(() => server?.stop());

  test('model_load_failed and model_not_found', async () => {
    const wav = readFileSync(clipFile(goldens('tiny').clips.find((c) => c.id === 'jfk')!));
    const file = (f: FormData) => f.append('file', blob(wav), 'jfk.wav');
    const failed = await post(server, file, 'broken@fp32');
    expect(failed.status).toBe(500);
    expect(failed.body.error).toMatchObject({ code: 'model_load_failed', param: 'model' });
    expect(failed.body.error?.message).toBe('the server cannot load broken@fp32 (its log says why)');
    const missing = await post(server, file, 'nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error?.message).toContain('broken');
    // A server with no model at all says so without naming where it looks for them.
    mkdirSync(resolve(TMP, 'models-empty'), { recursive: true });
    const empty = await startTestServer({ models: resolve(TMP, 'models-empty'), preload: [] });
    const none = await post(empty, file, 'tiny').finally(() => empty.stop());
    expect(none.status).toBe(404);
    expect(none.body.error?.message).toContain('this server serves no model yet');
    for (const r of [failed, missing, none]) {
      expect(JSON.stringify(r.body)).not.toContain(TMP);
      expect(JSON.stringify(r.body)).not.toContain(process.cwd());
    }
  });
});
