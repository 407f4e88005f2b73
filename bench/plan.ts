// The rounds, durations and sizes of one `npm run bench`.

export const PLAN = { loadRounds: 3, loadRoundSeconds: 5, costRounds: 15, costRoundMs: 200, streamRounds: 9, downloadsPerRound: 6, objectMiB: 48 };
export const MEMORY_PLAN = { rounds: 3, streams: 200, seconds: 5, warmUpDownloads: 2 };
export const PAGE_ROWS = 10_000;
export const MEDIA = { key: 'bench/random-48mib.mp4', sizeBytes: PLAN.objectMiB * 1024 ** 2, contentType: 'video/mp4' };
