/**
 * src/core/format/subtitles.ts against the oracles: SRT and VTT parsed back by `subtitle` (parseSync), VTT validated
 * by webvtt-parser; cue limits (≤ 7 s, ≤ 2 lines of ≤ 42 characters), breaks at punctuation, CJK split by characters.
 */
import { parseSync } from 'subtitle';
import { describe, expect, test } from 'vitest';
import { type Segment, toCues, toSrt, toText, toVtt } from '../../src/core/format/subtitles.ts';
import { vttParser } from './helpers.ts';

const EN =
  'And so, my fellow Americans, ask not what your country can do for you; ask what you can do for your country. ' +
  'My fellow citizens of the world, ask not what America will do for you, but what together we can do for the ' +
  'freedom of man.';
const ZH =
  '我们今天去公园散步，天气非常好。上海的夜晚很热闹，北京的秋天很美丽。这是一个语音识别的测试，我还能识别数字和标点。';

function cuesOf(doc: string) {
  return parseSync(doc).flatMap((n) => (n.type === 'cue' ? [n.data] : []));
}

function checkLimits(segments: Segment[]) {
  const srt = toSrt(segments);
  const vtt = toVtt(segments);
  expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
  expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/);
  const parsed = vttParser().parse(vtt);
  expect(parsed.errors).toEqual([]);
  const fromSrt = cuesOf(srt);
  const fromVtt = cuesOf(vtt);
  // `subtitle` keeps VTT's character references as they are.
  const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  expect(fromVtt.map((c) => [c.start, c.end, unescape(c.text)])).toEqual(fromSrt.map((c) => [c.start, c.end, c.text]));
  expect(parsed.cues.map((c) => [Math.round(c.startTime * 1000), Math.round(c.endTime * 1000)])).toEqual(
    fromSrt.map((c) => [c.start, c.end]),
  );
  let last = -1;
  for (const c of fromSrt) {
    expect(c.end - c.start).toBeLessThanOrEqual(7000);
    expect(c.end).toBeGreaterThan(c.start);
    expect(c.start).toBeGreaterThanOrEqual(last);
    last = c.end;
    const lines = c.text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(42);
    expect(segments.some((s) => c.start >= s.start * 1000 - 1 && c.end <= s.end * 1000 + 1)).toBe(true);
  }
  return fromSrt;
}

describe('subtitles', () => {
  test('English: round trip through the parsers, cues within limits, broken after punctuation', () => {
    const segments = [{ start: 0, end: 20, text: EN }];
    const cues = checkLimits(segments);
    expect(cues.length).toBeGreaterThan(3);
    // Joined with spaces, the cues are the text word for word.
    expect(cues.map((c) => c.text.replace(/\n/g, ' ')).join(' ')).toBe(EN);
    // Cue boundaries fall after punctuation when a clause fits in a cue.
    const endsAtPunct = cues.filter((c) => /[,.;]$/.test(c.text)).length;
    expect(endsAtPunct).toBeGreaterThanOrEqual(cues.length - 2);
    expect(cues[0]!.start).toBe(0);
    expect(cues.at(-1)!.end).toBe(20_000);
  });

  test('CJK: split between characters, no spaces added', () => {
    const segments = [{ start: 1.5, end: 25, text: ZH }];
    const cues = checkLimits(segments);
    expect(cues.length).toBeGreaterThanOrEqual(4); // 23.5 s in ≤ 7 s cues
    expect(cues.map((c) => c.text.replace(/\n/g, '')).join('')).toBe(ZH);
    expect(cues.every((c) => !c.text.includes(' '))).toBe(true);
    // Mostly after full-width punctuation.
    expect(cues.filter((c) => /[，。]$/.test(c.text)).length).toBeGreaterThanOrEqual(cues.length - 1);
  });

  test('several segments, mixed text, a long word, VTT escaping, empty segments', () => {
    const segments: Segment[] = [
      { start: 0, end: 4, text: 'Tom & Jerry <b>not a tag</b> 你好世界' },
      { start: 4, end: 4.5, text: '   ' },
      { start: 4.5, end: 30, text: 'x'.repeat(120) + ' then words, and more words' },
      { start: 3600, end: 3605.25, text: 'an hour later' },
    ];
    const cues = checkLimits(segments);
    expect(cues.at(-1)).toMatchObject({ start: 3_600_000, end: 3_605_250, text: 'an hour later' });
    expect(toSrt(segments)).toContain('01:00:00,000 --> 01:00:05,250');
    expect(toVtt(segments)).toContain('01:00:00.000 --> 01:00:05.250');
    expect(toVtt(segments)).toContain('Tom &amp; Jerry &lt;b&gt;not a tag&lt;/b&gt;');
    const vtt = vttParser().parse(toVtt(segments));
    const first = vtt.cues[0]!.tree.children.map((n) => n.value ?? '').join('');
    expect(first.replace(/\n/g, ' ')).toContain('Tom & Jerry <b>not a tag</b>');
    expect(toText(segments)).toBe(
      `Tom & Jerry <b>not a tag</b> 你好世界${'x'.repeat(120)} then words, and more words an hour later`,
    );
  });

  test('a single character over a long pause is shown for at most 7 s; no segments → no cues', () => {
    expect(toCues([{ start: 0, end: 20, text: '好' }])).toEqual([{ start: 0, end: 7, lines: ['好'] }]);
    expect(toSrt([])).toBe('');
    expect(toVtt([])).toBe('WEBVTT\n');
  });
});
