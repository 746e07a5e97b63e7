import { PeriodicTask } from '../schedule/periodic';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { notifyAlerts } from '../alert/alert.notify';
import { lockExposureWrites } from '../exposure/exposure.lock';
import {
  dueReminders,
  nextReminderAt,
  obligationsOf,
  readClockInputs,
  reminderKey,
  writeClocks,
} from './obligation.clock';
import { nextDueAt } from './regimes';

/** Held by the instance running a tick; the others skip that tick (try-lock, they do not queue). */
const REMINDERS_LOCK_KEY = 7_331_013;

/** Exposures handled per transaction; a tick goes on with the next batch until none is due. */
const BATCH = 500;

export interface ReminderTickOutcome {
  /** false: another instance was running a tick. */
  ran: boolean;
  /** Alerts written (DUE_SOON, OVERDUE). */
  written: number;
  /** Reminders recorded without an alert: a later one of the same obligation was already due. */
  passedOver: number;
}

/**
 * Writes the obligations' reminders (docs/regulatory-clocks.md, "Reminders"): DUE_SOON and OVERDUE alerts,
 * each once, into the same outbox (exposure_alert) the engine writes, so subscriptions and webhooks deliver
 * them like any other alert. Safe with several instances: a tick runs under a try-lock (one instance at a
 * time; the others skip), each batch commits its alerts with their obligation_reminder rows (unique per
 * obligation and reminder), and what is due is read from the rows (next_reminder_at <= now), not from the
 * time since the last tick: a crash or a restart loses nothing, the next tick writes what is still due.
 * Alerts take their per-client numbers (client_seq) under the exposure lock, like the engine's.
 */
export class ObligationReminderJob {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly db: DataSource,
    private readonly options: { intervalMs: number; logger?: Logger; clock?: () => Date },
  ) {
    this.periodic = new PeriodicTask(
      'obligation reminders',
      options.intervalMs,
      () => this.tick(),
      options.logger,
    );
  }

  /** One tick at `now` (default the clock's): every reminder due by then and not yet written. */
  async tick(now: Date = (this.options.clock ?? (() => new Date()))()): Promise<ReminderTickOutcome> {
    const total: ReminderTickOutcome = { ran: false, written: 0, passedOver: 0 };
    for (;;) {
      const batch = await this.runBatch(now);
      if (!batch.ran) return total;
      total.ran = true;
      total.written += batch.written;
      total.passedOver += batch.passedOver;
      if (!batch.more) break;
    }
    if (total.written || total.passedOver)
      this.options.logger?.info({ ...total, now: now.toISOString() }, 'obligation reminders written');
    return total;
  }

  private runBatch(now: Date): Promise<ReminderTickOutcome & { more: boolean }> {
    return this.db.transaction(async (manager) => {
      const [{ got }]: { got: boolean }[] = await manager.query(
        `SELECT pg_try_advisory_xact_lock($1) AS got`,
        [REMINDERS_LOCK_KEY],
      );
      if (!got) return { ran: false, written: 0, passedOver: 0, more: false };
      // Alerts' client_seq is assigned under the engine's lock; after it, this transaction's statements see
      // every decision and revision committed before (READ COMMITTED).
      await lockExposureWrites(manager);
      const due: { id: string }[] = await manager.query(
        `SELECT id FROM exposure WHERE resolved_at IS NULL AND next_reminder_at <= $1::timestamptz
         ORDER BY next_reminder_at, id LIMIT ${BATCH}`,
        [now],
      );
      if (due.length === 0) return { ran: true, written: 0, passedOver: 0, more: false };
      const stored = await readClockInputs(
        manager,
        due.map((d) => d.id),
      );
      const reminders: { exposureId: string; reminder: ReturnType<typeof dueReminders>[number] }[] = [];
      const clocks = stored.map((s) => {
        const obligations = obligationsOf(s.inputs, now);
        for (const reminder of dueReminders(obligations, s.recorded, now)) {
          reminders.push({ exposureId: s.id, reminder });
          s.recorded.add(reminderKey(reminder.regime, reminder.milestone, reminder.kind, reminder.remindAt));
        }
        return {
          id: s.id,
          nextDueAt: nextDueAt(obligations),
          nextReminderAt: nextReminderAt(obligations, s.recorded),
        };
      });
      let written = 0;
      if (reminders.length) {
        const [row]: { last_alert_id: string | null; written: number }[] = await manager.query(
          WRITE_REMINDERS_SQL,
          [
            reminders.map((r) => r.exposureId),
            reminders.map((r) => r.reminder.regime),
            reminders.map((r) => r.reminder.milestone),
            reminders.map((r) => r.reminder.kind),
            reminders.map((r) => r.reminder.remindAt),
            reminders.map((r) => r.reminder.dueAt),
            reminders.map((r) => r.reminder.announce),
          ],
        );
        written = row.written;
        if (row.last_alert_id) await notifyAlerts(manager, row.last_alert_id);
      }
      await writeClocks(manager, clocks);
      return { ran: true, written, passedOver: reminders.length - written, more: due.length === BATCH };
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

/**
 * The reminders of one batch in one statement: an alert for each announced one (client_seq per client in
 * (client, batch order), ids drawn in the same order, as the engine does), and an obligation_reminder row
 * for every one, with its alert's id (null: passed over). A reminder recorded already would break the
 * unique key and roll the batch back: nothing is written twice.
 */
const WRITE_REMINDERS_SQL = `
WITH r AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[])
         WITH ORDINALITY AS r(exposure_id, regime, milestone, kind, remind_at, due_at, announce, ord)
),
alerts AS (
  INSERT INTO exposure_alert (exposure_id, client_id, incident_id, kind, revision, occurred_at, client_seq, regime, milestone, due_at)
  SELECT e.id, e.client_id, e.incident_id, r.kind, e.revision, statement_timestamp(),
         coalesce((SELECT max(a.client_seq) FROM exposure_alert a WHERE a.client_id = e.client_id), 0)
           + row_number() OVER (PARTITION BY e.client_id ORDER BY r.ord),
         r.regime, r.milestone, r.due_at
  FROM r JOIN exposure e ON e.id = r.exposure_id
  WHERE r.announce
  ORDER BY e.client_id, r.ord
  RETURNING id, exposure_id, regime, milestone, kind
),
recorded AS (
  INSERT INTO obligation_reminder (exposure_id, regime, milestone, kind, remind_at, due_at, alert_id, written_at)
  SELECT r.exposure_id, r.regime, r.milestone, r.kind, r.remind_at, r.due_at, a.id, statement_timestamp()
  FROM r LEFT JOIN alerts a ON r.announce AND a.exposure_id = r.exposure_id AND a.regime = r.regime
                            AND a.milestone = r.milestone AND a.kind = r.kind
)
SELECT (SELECT max(id) FROM alerts)::text AS last_alert_id, (SELECT count(*) FROM alerts)::int AS written`;
