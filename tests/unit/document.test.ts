/**
 * The transcript document (src/core/format/document.ts): titles from the first words, segments from windows, and
 * documents that validate against the published JSON Schema (ajv, the schema file itself as the oracle).
 */
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  documentText,
  formatDocument,
  newDocument,
  recordingDocId,
  recordingStartOf,
  titleFrom,
  windowSegments,
  withSegments,
} from '../../src/core/format/document.ts';
import { ROOT } from '../helpers/data.ts';

const schema = JSON.parse(readFileSync(resolve(ROOT, 'src/core/format/transcript.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

describe('titleFrom', () => {
  test('short text is the title as it is', () => {
    expect(titleFrom('  Hello   world. ')).toBe('Hello world.');
    expect(titleFrom('')).toBe('');
  });
  test('at most eight words, with an ellipsis and without the punctuation before it', () => {
    expect(titleFrom('one two three four five six seven eight, nine ten')).toBe(
      'one two three four five six seven eight…',
    );
  });
  test('at most 60 characters, cut at a word', () => {
    const long = 'Antidisestablishmentarianism notwithstanding, incomprehensibilities proliferate magnificently';
    expect(titleFrom(long)).toBe('Antidisestablishmentarianism notwithstanding…');
  });
});

describe('the document', () => {
  const windows = [
    { startSec: 0, endSec: 30, text: 'And so, my fellow Americans,', engine: 'wasm' },
    { startSec: 30, endSec: 41.5, text: 'ask not.', engine: 'webgpu' },
  ];
  const base = newDocument({
    id: recordingDocId(1764240000000),
    kind: 'recording',
    createdAt: new Date(Date.UTC(2026, 10, 27, 10, 0, 0)),
    model: { id: 'glm-asr-nano-2512', revision: 'abc123', variant: 'q4' },
    status: 'transcribing',
  });

  test('a new document validates and says what it is', () => {
    expect(base.id).toBe('rec-1764240000000');
    expect(recordingStartOf(base.id)).toBe(1764240000000);
    expect(recordingStartOf('file-1764240000000-1')).toBeNull();
    expect(base.createdAt).toBe('2026-11-27T10:00:00.000Z');
    expect(validate(base), JSON.stringify(validate.errors)).toBe(true);
  });

  test('windows become final segments with their engines; the title follows the text until the user names it', () => {
    const done = { ...withSegments(base, windowSegments(windows)), status: 'done' as const };
    expect(done.segments).toEqual([
      { start: 0, end: 30, text: 'And so, my fellow Americans,', final: true, engine: 'wasm' },
      { start: 30, end: 41.5, text: 'ask not.', engine: 'webgpu', final: true },
    ]);
    expect(documentText(done)).toBe('And so, my fellow Americans, ask not.');
    expect(done.title).toBe('And so, my fellow Americans, ask not.');
    const named = withSegments({ ...done, title: 'Inaugural', titleEdited: true }, done.segments);
    expect(named.title).toBe('Inaugural');
    expect(windowSegments([{ startSec: 1, endSec: 2, text: 'x' }])[0]!.engine).toBeNull();
  });

  test('Save JSON is the document as two-space JSON with a final newline, and it validates', () => {
    const done = { ...withSegments(base, windowSegments(windows)), status: 'done' as const };
    const json = formatDocument(done);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json.split('\n')[1]).toBe('  "schema": "glm-asr-web/transcript@1",');
    expect(validate(JSON.parse(json)), JSON.stringify(validate.errors)).toBe(true);
  });

  test('the schema rejects what is not a document', () => {
    expect(validate({ ...base, status: 'lost' })).toBe(false);
    expect(validate({ ...base, segments: [{ start: 0, end: 1, text: 'x' }] })).toBe(false);
    const { audio: _audio, ...noAudio } = base;
    expect(validate(noAudio)).toBe(false);
    expect(validate({ ...base, extra: 1 })).toBe(false);
  });
});
