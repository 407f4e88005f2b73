export interface Rendition {
  /** Folder name under hls/<videoId>/ and the label of the quality menu, e.g. "360p". */
  name: string;
  height: number;
  videoKbps: number;
  audioKbps: number;
}

/** Heights and bitrates for H.264 at 16:9, tallest first; bitrates follow common streaming ladders. */
const LADDER: Rendition[] = [
  { name: '1080p', height: 1080, videoKbps: 5000, audioKbps: 128 },
  { name: '720p', height: 720, videoKbps: 2800, audioKbps: 128 },
  { name: '480p', height: 480, videoKbps: 1400, audioKbps: 96 },
  { name: '360p', height: 360, videoKbps: 800, audioKbps: 96 },
  { name: '240p', height: 240, videoKbps: 400, audioKbps: 64 },
];

/**
 * Picks the renditions for a source `sourceHeight` pixels tall, shortest first, never taller than the
 * source: the tallest rung that fits, plus 360p under a 720p or taller top (and 720p under 1080p), else the
 * next rung down (360p gets 240p). A source that fits one rung or none also gets half its own height.
 */
export function chooseRenditions(sourceHeight: number): Rendition[] {
  const fitting = LADDER.filter((rung) => rung.height <= sourceHeight);
  const top = fitting[0];
  if (!top) return [customRendition(sourceHeight / 2), customRendition(sourceHeight)];

  const chosen = [top];
  if (top.height >= 720) chosen.push(rungOf(360));
  if (top.height >= 1080) chosen.push(rungOf(720));
  if (top.height < 720 && fitting[1]) chosen.push(fitting[1]);
  if (chosen.length === 1) chosen.push(customRendition(top.height / 2));

  return chosen.sort((a, b) => a.height - b.height);
}

function rungOf(height: number): Rendition {
  return LADDER.find((rung) => rung.height === height)!;
}

// Encoders need even dimensions for 4:2:0 video.
function customRendition(height: number): Rendition {
  const even = Math.max(2, Math.floor(height / 2) * 2);
  return { name: `${even}p`, height: even, videoKbps: Math.max(100, Math.round(even * 1.5)), audioKbps: 64 };
}
