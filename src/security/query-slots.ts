/**
 * At most `max` queries execute at once on this instance; the others wait their turn in arrival order.
 *
 * Why: a query in flight keeps its rows and half-built result alive. With 32 executing at once on the
 * benchmark's nested read, everything a request allocated outlived the young-generation collections,
 * was copied to the old generation and collected there: garbage collection took over a quarter of the
 * CPU and the process grew past 300 MB. Running 4 at a time served more requests per second (the
 * others wait about as long as they would have taken anyway) in less memory (docs/performance.md).
 *
 * Only queries wait. A mutation may hold the exposure engine's lock for a second and a subscription
 * runs for hours: neither takes a slot, so neither can hold reads back. The slot is taken around the
 * execution itself (common/compiled-execution.ts), after parsing, validation and the cost limit, so a
 * refused query never queues, and released in a `finally`, however the execution ends.
 */
export class QuerySlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Queries waiting for a slot (a metric). */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<void> | void {
    if (this.running < this.max) {
      this.running += 1;
      return;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next query: `running` stays the same.
    if (next) next();
    else this.running -= 1;
  }
}
