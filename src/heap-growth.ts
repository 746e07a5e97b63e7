import v8 from 'node:v8';

/**
 * How far the old generation may grow past what is live before V8 collects it again. V8 picks this factor
 * from the heap limit: with a limit of 2 GB or more (Node's default on any machine with 16 GB or more) it
 * allows up to four times the live heap. Under the benchmark's nested read the live heap stays at about
 * 60 MB, but what requests in flight allocate survives two young-generation collections often enough
 * (about 0.5 MB per request) to be promoted, so the old generation filled with dead objects up to 250 MB
 * before each full collection, and the process peaked at 340 to 380 MB of RSS for 60 MB of live data
 * (docs/performance.md, "Peak RSS"). With 1.5 times the live heap it peaks near 200 MB, at no measurable
 * CPU cost (the full collections are incremental and concurrent, and each finds less to mark). An import
 * is the same story at a larger scale (exceljs's reader makes most of the garbage; docs/performance.md,
 * "The import's peak RSS"), which is why `npm run import` sets it too. This bounds growth, not size: unlike
 * --max-old-space-size it never makes a large import run out of heap. V8 reads the flag at every full
 * collection, so setting it at start-up takes effect from the next one.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
