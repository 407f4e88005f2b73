import { describe, expect, it } from 'vitest';

import { PlaylistUriError, resolvePlaylistUri, rewritePlaylist } from '../../src/transcode/playlist-rewriter.js';

const PREFIX = 'hls/abc/';
const grantUrlFor = (key: string) => `/granted/${key}?sig=1`;

function rewrite(text: string, playlistKey = 'hls/abc/360p/index.m3u8') {
  return rewritePlaylist(text, { playlistKey, allowedPrefix: PREFIX, grantUrlFor });
}

describe('rewritePlaylist', () => {
  it('grants every variant URI of a master playlist', async () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=580800,RESOLUTION=426x240',
      '240p/index.m3u8',
      '',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="360p/iframes.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360',
      '360p/index.m3u8',
    ].join('\n');

    expect(await rewrite(master, 'hls/abc/master.m3u8')).toBe([
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="/granted/hls/abc/audio/index.m3u8?sig=1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=580800,RESOLUTION=426x240',
      '/granted/hls/abc/240p/index.m3u8?sig=1',
      '',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="/granted/hls/abc/360p/iframes.m3u8?sig=1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360',
      '/granted/hls/abc/360p/index.m3u8?sig=1',
    ].join('\n'));
  });

  it('grants segments, EXT-X-MAP and EXT-X-KEY of a variant', async () => {
    const variant = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.key",IV=0x1',
      '#EXTINF:4.000000,',
      'segment_000.m4s',
      '#EXTINF:4.000000,',
      'segment_001.m4s',
      '#EXT-X-ENDLIST',
    ].join('\r\n');

    expect(await rewrite(variant)).toBe([
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MAP:URI="/granted/hls/abc/360p/init.mp4?sig=1"',
      '#EXT-X-KEY:METHOD=AES-128,URI="/granted/hls/abc/360p/keys/k1.key?sig=1",IV=0x1',
      '#EXTINF:4.000000,',
      '/granted/hls/abc/360p/segment_000.m4s?sig=1',
      '#EXTINF:4.000000,',
      '/granted/hls/abc/360p/segment_001.m4s?sig=1',
      '#EXT-X-ENDLIST',
    ].join('\n'));
  });

  it('drops plain comments', async () => {
    expect(await rewrite('#EXTM3U\n# made by hand: hls/abc/360p\nsegment_000.ts')).toBe('#EXTM3U\n\n/granted/hls/abc/360p/segment_000.ts?sig=1');
  });

  it.each([
    ['https://cdn.example.com/segment_000.ts'],
    ['//cdn.example.com/segment_000.ts'],
    ['/hls/abc/360p/segment_000.ts'],
    ['../../other/360p/segment_000.ts'],
    ['./segment_000.ts'],
    ['a/../../x.ts'],
    ['segment_000.ts?token=1'],
    ['seg%2e%2e.ts'],
    ['dir\\segment.ts'],
    ['data:video/mp2t;base64,AAAA'],
  ])('rejects %s', async (uri) => {
    await expect(rewrite(`#EXTM3U\n#EXTINF:4,\n${uri}`)).rejects.toBeInstanceOf(PlaylistUriError);
    await expect(rewrite(`#EXTM3U\n#EXT-X-MAP:URI="${uri}"`)).rejects.toBeInstanceOf(PlaylistUriError);
  });

  it('rejects a URI leaving the prefix from the prefix root', () => {
    expect(() => resolvePlaylistUri('x.ts', 'hls/other.m3u8', PREFIX)).toThrow('resolves outside hls/abc/');
  });

  it('rejects text that is not a playlist', async () => {
    await expect(rewrite('segment_000.ts')).rejects.toThrow('does not start with #EXTM3U');
  });

  it('grants each key once', async () => {
    const granted: string[] = [];
    await rewritePlaylist('#EXTM3U\na.ts\na.ts\n#EXT-X-MAP:URI="a.ts"', {
      playlistKey: 'hls/abc/master.m3u8',
      allowedPrefix: PREFIX,
      grantUrlFor: (key) => {
        granted.push(key);
        return key;
      },
    });
    expect(granted).toEqual(['hls/abc/a.ts']);
  });
});
