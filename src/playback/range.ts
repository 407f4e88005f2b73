import parseRange from 'range-parser';

import type { ByteRange } from '../storage/storage.js';

export type RangeResolution = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

const FULL: RangeResolution = { kind: 'full' };
const UNSATISFIABLE: RangeResolution = { kind: 'unsatisfiable' };

// range-parser returns these codes in place of a list of ranges.
const UNSATISFIABLE_CODE = -1;
const MALFORMED_CODE = -2;

/**
 * Decides which bytes of an object of `size` bytes a GET with this Range header gets, following RFC 9110
 * section 14. A header that the server must or may ignore resolves to the full object.
 */
export function resolveRange(rangeHeader: string | undefined, size: number): RangeResolution {
  if (rangeHeader === undefined || rangeHeader.trim() === '') return FULL;

  // RFC 9110 section 14.2 requires an origin server to ignore a Range header whose unit it does not support.
  if (!hasBytesUnit(rangeHeader)) return FULL;

  // Several ranges would need a multipart/byteranges body. Media players ask for one range at a time, so we
  // ignore multi-range requests and send the whole object with 200.
  if (hasSeveralRanges(rangeHeader)) return FULL;

  const parsed = parseRange(size, rangeHeader);

  // A Range header that does not parse is ignored, as RFC 9110 section 14.2 allows.
  if (parsed === MALFORMED_CODE) return FULL;

  if (parsed === UNSATISFIABLE_CODE) return resolveRejectedRange(rangeHeader, size);

  const [range] = parsed;
  if (range === undefined) return UNSATISFIABLE;

  return { kind: 'partial', range: { start: range.start, end: range.end } };
}

/**
 * range-parser 1.3 returns -1 for three different cases, which RFC 9110 treats differently. Parsing the header
 * again against an unbounded size separates them.
 */
function resolveRejectedRange(rangeHeader: string, size: number): RangeResolution {
  const unbounded = parseRange(Number.MAX_SAFE_INTEGER, rangeHeader);
  const isSuffix = rangeSpecifier(rangeHeader).startsWith('-');

  if (!Array.isArray(unbounded)) {
    // "bytes=-0" is a valid suffix range that no object can satisfy. "bytes=5-2" has its last position before its
    // first, which makes it invalid, so the header is ignored.
    return isSuffix ? UNSATISFIABLE : FULL;
  }

  // A 206 cannot describe zero bytes, because Content-Range needs first <= last, so an empty object satisfies no
  // range.
  if (size === 0) return UNSATISFIABLE;

  // A suffix longer than the object means the whole object (RFC 9110 section 14.1.3).
  if (isSuffix) return { kind: 'partial', range: { start: 0, end: size - 1 } };

  // The remaining case is a first position at or past the end of the object.
  return UNSATISFIABLE;
}

// RFC 9110 range units are case-insensitive, but range-parser compares them case-sensitively.
function hasBytesUnit(rangeHeader: string): boolean {
  const equalsIndex = rangeHeader.indexOf('=');
  if (equalsIndex === -1) return false;

  return rangeHeader.slice(0, equalsIndex).trim().toLowerCase() === 'bytes';
}

function hasSeveralRanges(rangeHeader: string): boolean {
  return rangeSpecifier(rangeHeader).includes(',');
}

function rangeSpecifier(rangeHeader: string): string {
  return rangeHeader.slice(rangeHeader.indexOf('=') + 1).trim();
}
