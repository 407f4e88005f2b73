import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMp4DurationSeconds, sniffVideoType } from '../../src/videos/media-probe.js';

const demoDirectory = path.resolve(import.meta.dirname, '../../demo');

function box(type: string, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function ftyp(brand: string): Buffer {
  return box('ftyp', Buffer.from(`${brand}\0\0\0\0isom`, 'latin1'));
}

function mvhdVersion0(timescale: number, duration: number): Buffer {
  const body = Buffer.alloc(100);
  body.writeUInt32BE(0, 0);
  body.writeUInt32BE(timescale, 12);
  body.writeUInt32BE(duration, 16);
  return box('mvhd', body);
}

function mvhdVersion1(timescale: number, duration: bigint): Buffer {
  const body = Buffer.alloc(112);
  body.writeUInt32BE(0x0100_0000, 0);
  body.writeUInt32BE(timescale, 20);
  body.writeBigUInt64BE(duration, 24);
  return box('mvhd', body);
}

describe('sniffVideoType', () => {
  it('detects mp4 brands', () => {
    expect(sniffVideoType(ftyp('isom'))).toBe('video/mp4');
    expect(sniffVideoType(ftyp('mp42'))).toBe('video/mp4');
    expect(sniffVideoType(ftyp('M4V '))).toBe('video/mp4');
  });

  it('detects quicktime brand', () => {
    expect(sniffVideoType(ftyp('qt  '))).toBe('video/quicktime');
  });

  it('rejects audio and unknown brands', () => {
    expect(sniffVideoType(ftyp('M4A '))).toBeNull();
    expect(sniffVideoType(ftyp('heic'))).toBeNull();
  });

  it('detects webm by EBML magic', () => {
    expect(sniffVideoType(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]))).toBe('video/webm');
  });

  it('detects ogg by OggS', () => {
    expect(sniffVideoType(Buffer.from('OggS\0\x02\0\0', 'latin1'))).toBe('video/ogg');
  });

  it('rejects other and short input', () => {
    expect(sniffVideoType(Buffer.from('<!DOCTYPE html><html>', 'latin1'))).toBeNull();
    expect(sniffVideoType(Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'))).toBeNull();
    expect(sniffVideoType(Buffer.from([0x1a, 0x45, 0xdf]))).toBeNull();
    expect(sniffVideoType(Buffer.alloc(0))).toBeNull();
  });

  it('detects demo files as mp4', async () => {
    const head = Buffer.alloc(12);
    const file = await open(path.join(demoDirectory, 'color-bars.mp4'));
    await file.read(head, 0, 12, 0);
    await file.close();

    expect(sniffVideoType(head)).toBe('video/mp4');
  });
});

describe('readMp4DurationSeconds', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'reelgate-probe-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function writeSample(name: string, ...boxes: Buffer[]): Promise<string> {
    const filePath = path.join(directory, name);
    await writeFile(filePath, Buffer.concat(boxes));
    return filePath;
  }

  it('reads demo durations', async () => {
    expect(await readMp4DurationSeconds(path.join(demoDirectory, 'color-bars.mp4'))).toBe(20);
    expect(await readMp4DurationSeconds(path.join(demoDirectory, 'mandelbrot-zoom.mp4'))).toBe(15);
  });

  it('reads mvhd version 0', async () => {
    const filePath = await writeSample('v0.mp4', ftyp('isom'), box('free'), box('moov', box('udta'), mvhdVersion0(600, 4500)));

    expect(await readMp4DurationSeconds(filePath)).toBe(7.5);
  });

  it('reads mvhd version 1', async () => {
    const filePath = await writeSample('v1.mp4', ftyp('isom'), box('moov', mvhdVersion1(90_000, 12_600_000_000n)));

    expect(await readMp4DurationSeconds(filePath)).toBe(140_000);
  });

  it('skips 64-bit sized mdat', async () => {
    // The 5 GiB mdat is a hole in a sparse file. A reader that loaded the whole file would run out of memory
    // or time, so passing also shows that only box headers are read.
    const mdatSize = 5 * 1024 ** 3;
    const filePath = path.join(directory, 'large-mdat.mp4');
    const head = ftyp('isom');
    const mdatHeader = Buffer.alloc(16);
    mdatHeader.writeUInt32BE(1, 0);
    mdatHeader.write('mdat', 4, 'latin1');
    mdatHeader.writeBigUInt64BE(BigInt(mdatSize), 8);
    const moov = box('moov', mvhdVersion0(1000, 61_250));

    const file = await open(filePath, 'w');
    await file.write(head, 0, head.length, 0);
    await file.write(mdatHeader, 0, mdatHeader.length, head.length);
    await file.write(moov, 0, moov.length, head.length + mdatSize);
    await file.close();

    expect(await readMp4DurationSeconds(filePath)).toBe(61.25);
  });

  it('reads moov with size 0', async () => {
    const moov = box('moov', mvhdVersion0(1000, 2_000));
    moov.writeUInt32BE(0, 0);
    const filePath = await writeSample('size-zero.mp4', ftyp('isom'), moov);

    expect(await readMp4DurationSeconds(filePath)).toBe(2);
  });

  it('returns null without moov', async () => {
    const filePath = await writeSample('no-moov.mp4', ftyp('isom'), box('mdat', Buffer.alloc(64)));

    expect(await readMp4DurationSeconds(filePath)).toBeNull();
  });

  it('returns null without mvhd', async () => {
    const filePath = await writeSample('no-mvhd.mp4', ftyp('isom'), box('moov', box('trak')));

    expect(await readMp4DurationSeconds(filePath)).toBeNull();
  });

  it('returns null for unknown duration', async () => {
    const zero = await writeSample('zero.mp4', ftyp('isom'), box('moov', mvhdVersion0(1000, 0)));
    const allOnes = await writeSample('all-ones.mp4', ftyp('isom'), box('moov', mvhdVersion0(1000, 0xffff_ffff)));
    const noTimescale = await writeSample('no-timescale.mp4', ftyp('isom'), box('moov', mvhdVersion0(0, 1000)));

    expect(await readMp4DurationSeconds(zero)).toBeNull();
    expect(await readMp4DurationSeconds(allOnes)).toBeNull();
    expect(await readMp4DurationSeconds(noTimescale)).toBeNull();
  });

  it('returns null for truncated mvhd', async () => {
    const mvhd = mvhdVersion0(1000, 5000).subarray(0, 20);
    mvhd.writeUInt32BE(20, 0);
    const filePath = await writeSample('short-mvhd.mp4', ftyp('isom'), box('moov', mvhd));

    expect(await readMp4DurationSeconds(filePath)).toBeNull();
  });

  it('returns null for box past end', async () => {
    const moov = box('moov', mvhdVersion0(1000, 5000));
    moov.writeUInt32BE(moov.length + 100, 0);
    const filePath = await writeSample('overlong.mp4', ftyp('isom'), moov);

    expect(await readMp4DurationSeconds(filePath)).toBeNull();
  });

  it('returns null for non-mp4 file', async () => {
    const filePath = await writeSample('page.html', Buffer.from('<!DOCTYPE html><title>x</title>', 'latin1'));

    expect(await readMp4DurationSeconds(filePath)).toBeNull();
  });
});
