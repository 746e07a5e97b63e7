import type { Logger } from 'pino';

/**
 * Runs `work` every intervalMs (0: never), one run at a time in this instance: a tick that finds the last
 * run still going is skipped, and a run that fails is logged and retried at the next tick. Which instance
 * does a run's work is the work's own business (a lock it tries, a row it claims); this only keeps time.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.work()
        .catch((error) => this.logger?.warn({ err: error }, `${this.name} failed; retrying at the next tick`))
        .finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops ticking and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
