import { open, type FileHandle } from 'node:fs/promises';

export type VideoType = 'video/mp4' | 'video/quicktime' | 'video/webm' | 'video/ogg';

/** Major brands in an ISO base media `ftyp` box that mark a playable MP4 or M4V video. */
const MP4_BRANDS = new Set([
  'isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'iso8', 'iso9',
  'mp41', 'mp42', 'mp71', 'avc1', 'dash', 'mmp4', 'MSNV', 'f4v ',
  'M4V ', 'M4VH', 'M4VP',
]);

const QUICKTIME_BRAND = 'qt  ';
const EBML_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);
const OGG_MAGIC = Buffer.from('OggS', 'latin1');

/** Largest box header: 32-bit size, type, then a 64-bit size when the 32-bit size is 1. */
const MAX_BOX_HEADER_BYTES = 16;

/** Bytes of the mvhd body up to the end of the duration field. Version 1 has 64-bit times and duration. */
const MVHD_V0_BYTES = 4 + 4 + 4 + 4 + 4;
const MVHD_V1_BYTES = 4 + 8 + 8 + 4 + 8;

/** Stops a walk over a malformed or hostile file made of millions of tiny boxes. */
const MAX_BOXES_PER_LEVEL = 100_000;

/** Detects the container of a video file from its first 12 bytes, or returns null. */
export function sniffVideoType(head: Buffer): VideoType | null {
  if (head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp') {
    return videoTypeForBrand(head.toString('latin1', 8, 12));
  }
  if (startsWith(head, EBML_MAGIC)) return 'video/webm';
  if (startsWith(head, OGG_MAGIC)) return 'video/ogg';

  return null;
}

/**
 * Reads the duration from the movie header (moov/mvhd) of an MP4 or QuickTime file. Reads box headers only,
 * never the media data. Returns null when the file has no mvhd or its duration is zero or unknown, as in
 * fragmented MP4 files.
 */
export async function readMp4DurationSeconds(filePath: string): Promise<number | null> {
  const file = await open(filePath, 'r');

  try {
    const { size } = await file.stat();
    return await readMp4Duration((position, length) => readAt(file, position, length), size);
  } finally {
    await file.close();
  }
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the object. */
export type ReadBytesAt = (position: number, length: number) => Promise<Buffer>;

/** Like readMp4DurationSeconds, for an object of `size` bytes read through `read`, such as ranged storage reads. */
export async function readMp4Duration(read: ReadBytesAt, size: number): Promise<number | null> {
  const moov = await findBox(read, 0, size, 'moov');
  if (!moov) return null;

  const mvhd = await findBox(read, moov.bodyStart, moov.end, 'mvhd');
  if (!mvhd) return null;

  return readMvhdDuration(read, mvhd);
}

interface Box {
  type: string;
  bodyStart: number;
  end: number;
}

function videoTypeForBrand(brand: string): VideoType | null {
  if (brand === QUICKTIME_BRAND) return 'video/quicktime';
  if (MP4_BRANDS.has(brand)) return 'video/mp4';

  return null;
}

function startsWith(buffer: Buffer, magic: Buffer): boolean {
  return buffer.length >= magic.length && buffer.subarray(0, magic.length).equals(magic);
}

async function findBox(read: ReadBytesAt, start: number, end: number, type: string): Promise<Box | null> {
  let offset = start;

  for (let count = 0; offset < end && count < MAX_BOXES_PER_LEVEL; count += 1) {
    const box = await readBoxHeader(read, offset, end);
    if (!box) return null;
    if (box.type === type) return box;

    offset = box.end;
  }
  return null;
}

/** Returns null for a truncated header or a size that does not fit inside the parent box. */
async function readBoxHeader(read: ReadBytesAt, offset: number, parentEnd: number): Promise<Box | null> {
  const header = await readSome(read, offset, Math.min(MAX_BOX_HEADER_BYTES, parentEnd - offset));
  if (header.length < 8) return null;

  const type = header.toString('latin1', 4, 8);
  const size32 = header.readUInt32BE(0);
  let headerBytes = 8;
  let size = size32;

  if (size32 === 1) {
    if (header.length < 16) return null;
    headerBytes = 16;
    size = Number(header.readBigUInt64BE(8));
  } else if (size32 === 0) {
    // Size 0 means the box runs to the end of its parent (in practice, the end of the file).
    size = parentEnd - offset;
  }

  if (size < headerBytes || offset + size > parentEnd) return null;

  return { type, bodyStart: offset + headerBytes, end: offset + size };
}

async function readMvhdDuration(read: ReadBytesAt, mvhd: Box): Promise<number | null> {
  const body = await readSome(read, mvhd.bodyStart, Math.min(MVHD_V1_BYTES, mvhd.end - mvhd.bodyStart));
  if (body.length < MVHD_V0_BYTES) return null;

  const version = body.readUInt8(0);
  let timescale: number;
  let duration: number;

  if (version === 0) {
    timescale = body.readUInt32BE(12);
    duration = body.readUInt32BE(16);
    if (duration === 0xffff_ffff) return null;
  } else if (version === 1) {
    if (body.length < MVHD_V1_BYTES) return null;
    timescale = body.readUInt32BE(20);
    const longDuration = body.readBigUInt64BE(24);
    if (longDuration === 0xffff_ffff_ffff_ffffn) return null;
    duration = Number(longDuration);
  } else {
    return null;
  }

  if (timescale === 0 || duration === 0) return null;
  return duration / timescale;
}

function readSome(read: ReadBytesAt, position: number, length: number): Promise<Buffer> {
  return length <= 0 ? Promise.resolve(Buffer.alloc(0)) : read(position, length);
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);

  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}
