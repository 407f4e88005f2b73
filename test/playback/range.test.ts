import { describe, expect, it } from 'vitest';

import { resolveRange, type RangeResolution } from '../../src/playback/range.js';

const full: RangeResolution = { kind: 'full' };
const unsatisfiable: RangeResolution = { kind: 'unsatisfiable' };
const partial = (start: number, end: number): RangeResolution => ({ kind: 'partial', range: { start, end } });

describe('resolveRange', () => {
  const cases: Array<[name: string, header: string | undefined, size: number, expected: RangeResolution]> = [
    ['no header', undefined, 1000, full],
    ['empty header', '', 1000, full],
    ['Safari probe bytes=0-1', 'bytes=0-1', 1000, partial(0, 1)],
    ['first byte bytes=0-0', 'bytes=0-0', 1000, partial(0, 0)],
    ['closed range', 'bytes=100-199', 1000, partial(100, 199)],
    ['open-ended', 'bytes=100-', 1000, partial(100, 999)],
    ['last byte open-ended', 'bytes=999-', 1000, partial(999, 999)],
    ['suffix', 'bytes=-500', 1000, partial(500, 999)],
    ['suffix equal to size', 'bytes=-1000', 1000, partial(0, 999)],
    ['suffix bigger than size', 'bytes=-5000', 1000, partial(0, 999)],
    ['zero suffix', 'bytes=-0', 1000, unsatisfiable],
    ['end past size is clamped', 'bytes=900-5000', 1000, partial(900, 999)],
    ['start at size', 'bytes=1000-', 1000, unsatisfiable],
    ['start past size', 'bytes=2000-3000', 1000, unsatisfiable],
    ['last before first is ignored', 'bytes=5-2', 1000, full],
    ['malformed bytes=abc', 'bytes=abc', 1000, full],
    ['no equals sign', 'bytes', 1000, full],
    ['other unit items=0-1', 'items=0-1', 1000, full],
    ['unit is case-insensitive', 'Bytes=0-1', 1000, partial(0, 1)],
    ['whitespace around spec', 'bytes= 0-1 ', 1000, partial(0, 1)],
    ['multi-range', 'bytes=0-1,5-9', 1000, full],
    ['multi-range with one unsatisfiable', 'bytes=0-1,5000-', 1000, full],
    ['zero-size bytes=0-', 'bytes=0-', 0, unsatisfiable],
    ['zero-size bytes=0-0', 'bytes=0-0', 0, unsatisfiable],
    ['zero-size suffix', 'bytes=-10', 0, unsatisfiable],
    ['zero-size malformed', 'bytes=abc', 0, full],
    ['zero-size no header', undefined, 0, full],
  ];

  it.each(cases)('%s', (_name, header, size, expected) => {
    expect(resolveRange(header, size)).toEqual(expected);
  });
});
