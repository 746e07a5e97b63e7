import { PeriodicTask } from './periodic';
import { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';

/**
 * A job that does, once per UTC day, the work for the days since it last ran (sinceDay exclusive, today
 * inclusive; sinceDay is '-infinity' the first time).
 */
export interface DailyJob {
  name: string;
  run(manager: EntityManager, sinceDay: string, today: string): Promise<{ changed: number }>;
}

export interface DailyJobOutcome {
  name: string;
  /** false: another instance holds the job right now, or it already ran today. */
  ran: boolean;
  sinceDay?: string;
  changed?: number;
}

const utcDay = (instant: Date) => instant.toISOString().slice(0, 10);

/**
 * Runs each job at most once per UTC day across every instance. Each tick checks each job in its own
 * transaction: the job's row is locked with SKIP LOCKED (another instance running it: skip), its work and
 * the new last_run_on commit together (a crash: the next tick redoes the day).
 */
export class DailyJobRunner {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly db: DataSource,
    private readonly jobs: DailyJob[],
    private readonly options: { intervalMs: number; logger?: Logger; clock?: () => Date },
  ) {
    this.periodic = new PeriodicTask('daily jobs', options.intervalMs, () => this.runDue(), options.logger);
  }

  /** Checks every job now; what a tick does. */
  async runDue(): Promise<DailyJobOutcome[]> {
    const today = utcDay((this.options.clock ?? (() => new Date()))());
    const outcomes: DailyJobOutcome[] = [];
    for (const job of this.jobs) outcomes.push(await this.runIfDue(job, today));
    return outcomes;
  }

  private runIfDue(job: DailyJob, today: string): Promise<DailyJobOutcome> {
    return this.db.transaction(async (manager) => {
      // A job seen for the first time has every earlier day to catch up on: it starts from -infinity.
      await manager.query(
        `INSERT INTO scheduled_job (name, last_run_on) VALUES ($1, '-infinity') ON CONFLICT (name) DO NOTHING`,
        [job.name],
      );
      const [row]: { last_run_on: string; due: boolean }[] = await manager.query(
        `SELECT last_run_on::text, last_run_on < $2::date AS due FROM scheduled_job WHERE name = $1 FOR UPDATE SKIP LOCKED`,
        [job.name, today],
      );
      if (!row?.due) return { name: job.name, ran: false };
      const { changed } = await job.run(manager, row.last_run_on, today);
      await manager.query(
        `UPDATE scheduled_job SET last_run_on = $2::date, last_run_at = statement_timestamp() WHERE name = $1`,
        [job.name, today],
      );
      this.options.logger?.info(
        { job: job.name, sinceDay: row.last_run_on, today, changed },
        'daily job ran',
      );
      return { name: job.name, ran: true, sinceDay: row.last_run_on, changed };
    });
  }

  /** Ticks every intervalMs (0: never); a tick that fails is logged and retried at the next one. */
  start(): void {
    this.periodic.start();
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }
}
