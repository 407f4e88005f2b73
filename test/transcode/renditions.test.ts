import { describe, expect, it } from 'vitest';

import { chooseRenditions } from '../../src/transcode/renditions.js';

describe('chooseRenditions', () => {
  it.each([
    [2160, ['360p', '720p', '1080p']],
    [1080, ['360p', '720p', '1080p']],
    [720, ['360p', '720p']],
    [540, ['360p', '480p']],
    [360, ['240p', '360p']],
    [300, ['120p', '240p']],
    [144, ['72p', '144p']],
  ])('%i lines give %j', (height, names) => {
    expect(chooseRenditions(height).map((rendition) => rendition.name)).toEqual(names);
  });
});
