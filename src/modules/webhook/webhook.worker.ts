import os from 'node:os';
import type dns from 'node:dns';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from '../../config';
import { OutgoingResult, postOutgoing } from '../../common/outgoing-http';
import { TransactionalConnection } from '../../db/transactional-connection';
import { ExposureEngine } from '../exposure/exposure.engine';
import { ObligationService } from '../obligation/obligation.service';
import {
  HAS_PENDING_ALERT,
  PendingAlert,
  RetrySchedule,
  pendingAlerts,
  retryDelayMs,
  signedHeaders,
} from './webhook.delivery';
import { WebhookMetrics } from './webhook.metrics';

export interface WebhookWorkerOptions {
  /** This instance, as deliveries record it. */
  name: string;
  /** How often to look for due work; 0: the worker does not run (wake and runUntilIdle still work). */
  pollMs: number;
  concurrency: number;
  timeoutMs: number;
  schedule: RetrySchedule;
  allowPrivateTargets: boolean;
  /** Production: only https URLs are delivered to. */
  requireHttps: boolean;
  /** How much of each response is read and kept. */
  maxResponseBytes: number;
  /** Alerts read per query while an endpoint is claimed. */
  batchSize: number;
  /** How much longer than timeoutMs a lease lasts: after that, a dead instance's endpoint is taken over. */
  leaseMarginMs: number;
  logger?: Logger;
  metrics?: WebhookMetrics;
  /** The clock of the retry schedule (tests make it fast); leases use the database's clock. */
  now: () => Date;
  random: () => number;
  /** Name resolution for the outgoing client (tests play a rebinding resolver). */
  lookup?: typeof dns.lookup;
}

let workersInProcess = 0;

export function webhookWorkerOptions(config: Config): WebhookWorkerOptions {
  return {
    name: `${os.hostname()}:${process.pid}:${++workersInProcess}`,
    pollMs: config.webhookPollMs,
    concurrency: config.webhookConcurrency,
    timeoutMs: config.webhookTimeoutMs,
    schedule: {
      baseMs: config.webhookRetryBaseSeconds * 1000,
      maxDelayMs: config.webhookRetryMaxDelaySeconds * 1000,
      windowMs: config.webhookRetryWindowSeconds * 1000,
    },
    allowPrivateTargets: config.webhookAllowPrivateTargets,
    requireHttps: config.env === 'production',
    maxResponseBytes: 1024,
    batchSize: 50,
    leaseMarginMs: 30_000,
    now: () => new Date(),
    random: Math.random,
  };
}

/** An endpoint as a claim hands it to the worker. */
interface ClaimedEndpoint {
  id: string;
  url: string;
  clientId: string | null;
  kinds: string[];
  secrets: string[];
  cursor: string;
  generation: number;
  failedAttempts: number;
  failingSince: Date | null;
  leaseToken: string;
  /** When this worker claimed it (performance.now()): a claim waiting too long in the queue is not started. */
  claimedAt: number;
  /** Its first alerts, read with those of every endpoint of the same claim (one statement for all). */
  alerts: PendingAlert[];
  /** New alerts were announced while it was claimed: once it is released, a claim may find it due again. */
  announcedSince?: boolean;
}

/**
 * Claims due endpoints: enabled, due by the schedule, not leased (or their lease ran out: the instance
 * holding it died), and with an alert after their cursor. FOR UPDATE SKIP LOCKED makes concurrent claims by
 * several instances take disjoint rows without waiting on each other; the lease, set in the same statement,
 * keeps the endpoint this worker's while it sends (no row lock or connection is held during HTTP).
 */
const CLAIM = `
  WITH due AS (
    SELECT e.id FROM webhook_endpoint e
    WHERE e.enabled AND e.next_attempt_at <= $1 AND (e.lease_until IS NULL OR e.lease_until < clock_timestamp())
      AND ${HAS_PENDING_ALERT}
    ORDER BY e.next_attempt_at, e.id
    LIMIT $2
    FOR UPDATE OF e SKIP LOCKED
  )
  UPDATE webhook_endpoint w
  SET lease_token = gen_random_uuid(), lease_until = clock_timestamp() + $3 * interval '1 millisecond'
  FROM due WHERE w.id = due.id
  RETURNING w.id, w.url, w.client_id, w.kinds, w.secret, w.previous_secret, w.previous_secret_until,
            w.cursor::text AS cursor, w.generation, w.failed_attempts, w.failing_since, w.lease_token`;

/**
 * Records one attempt and moves the endpoint on, in one statement: the attempt row always (it was sent);
 * the endpoint only while this worker still holds the lease, and the cursor only if no replay changed the
 * generation meanwhile. On success the lease is extended for the next alert (unless the endpoint was paused
 * meanwhile, or this was the last alert read: $20 false); otherwise it is released. (In SET, columns are the
 * values before this update.)
 */
const RECORD = `
  WITH moved AS (
    UPDATE webhook_endpoint SET
      cursor = CASE WHEN generation = $3 AND $4 THEN $5::bigint ELSE cursor END,
      failed_attempts = CASE WHEN generation <> $3 THEN failed_attempts WHEN $4 THEN 0 ELSE failed_attempts + 1 END,
      failing_since = CASE WHEN generation <> $3 THEN failing_since WHEN $4 THEN NULL ELSE $6::timestamptz END,
      next_attempt_at = CASE WHEN generation <> $3 THEN next_attempt_at ELSE $7::timestamptz END,
      enabled = CASE WHEN generation = $3 AND $8 THEN false ELSE enabled END,
      disabled_reason = CASE WHEN generation = $3 AND $8 THEN $9 ELSE disabled_reason END,
      disabled_at = CASE WHEN generation = $3 AND $8 THEN $10::timestamptz ELSE disabled_at END,
      lease_until = CASE WHEN generation = $3 AND $4 AND enabled AND $20 THEN clock_timestamp() + $11 * interval '1 millisecond' END,
      lease_token = CASE WHEN generation = $3 AND $4 AND enabled AND $20 THEN lease_token END
    WHERE id = $1 AND lease_token = $2
    RETURNING generation = $3 AND $4 AND enabled AND $20 AS go_on
  ), attempt AS (
    INSERT INTO webhook_delivery (endpoint_id, alert_id, webhook_id, attempt, attempted_at, duration_ms, status_code,
                                  outcome, error, response_excerpt, worker)
    SELECT $1, $5::bigint, $12, $13, $10::timestamptz, $14, $15, $16, $17, $18, $19
    WHERE EXISTS (SELECT 1 FROM webhook_endpoint WHERE id = $1)
  )
  SELECT coalesce((SELECT go_on FROM moved), false) AS go_on`;

/**
 * One per instance: delivers alerts from the outbox to every endpoint, in alert order per endpoint, at
 * least once. An endpoint's next alert is sent only after the previous one was acknowledged (2xx); a
 * failure schedules a retry of the same alert (RetrySchedule), and a failure past the retry window
 * disables the endpoint. Everything it knows is in the database, so an instance or database restart loses
 * nothing: an attempt whose result was not recorded is simply sent again (receivers deduplicate by
 * webhook-id), after the lease of the instance that died runs out.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private readonly active = new Set<Promise<void>>();
  /**
   * Endpoints claimed ahead of a free slot: one claim takes work for several slots, so the claim (a scan of
   * the due endpoints) is not repeated for every delivery that ends.
   */
  private readonly queue: ClaimedEndpoint[] = [];
  private readonly claimedHere = new Set<ClaimedEndpoint>();
  /**
   * Whether a claim may find work: a claim that came back short found everything due, so the next one
   * waits for a reason (a new alert announced, a poll tick for retries falling due, or an endpoint
   * released after alerts were announced while it was held). Without this every finished delivery ran a
   * claim, a scan of the due endpoints, and a burst of a thousand deliveries ran a thousand of them.
   */
  private mayFindWork = true;
  /** Counts the reasons to look; a short claim clears mayFindWork only if none came while it ran. */
  private reasonsToLook = 0;
  private stopped = false;
  private started = false;

  /**
   * @param obligations the service behind Exposure.obligations in the API (services.obligation), so the
   *   payload's clocks are the API's; by default one over the same database.
   */
  constructor(
    private readonly db: DataSource,
    private readonly options: WebhookWorkerOptions,
    private readonly obligations: ObligationService = new ObligationService(
      new TransactionalConnection(db),
      new ExposureEngine(),
    ),
  ) {}

  /** A lease outlives the longest attempt by a wide margin, so only a dead instance's lease runs out. */
  private get leaseMs(): number {
    return this.options.timeoutMs + this.options.leaseMarginMs;
  }

  start(): void {
    if (this.options.pollMs <= 0) return;
    this.started = true;
    this.timer = setInterval(() => this.lookAgain(), this.options.pollMs);
    this.timer.unref();
    void this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pumping;
    await Promise.all(this.active);
    await this.release(this.queue.splice(0));
  }

  /** Gives claimed but unstarted endpoints back at once, rather than when their leases run out. */
  private async release(endpoints: ClaimedEndpoint[]): Promise<void> {
    if (!endpoints.length) return;
    for (const endpoint of endpoints) this.claimedHere.delete(endpoint);
    // Due again at once, here or at another instance.
    this.reasonsToLook += 1;
    this.mayFindWork = true;
    await this.db
      .query(
        `UPDATE webhook_endpoint SET lease_token = NULL, lease_until = NULL
         WHERE (id, lease_token) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`,
        [endpoints.map((e) => e.id), endpoints.map((e) => e.leaseToken)],
      )
      .catch((error) => this.options.logger?.warn({ err: error }, 'webhook lease release failed'));
  }

  /** New alerts were committed (the alert hub calls this): look for work now rather than at the next poll. */
  notify(): void {
    if (!this.started) return;
    for (const endpoint of this.claimedHere) endpoint.announcedSince = true;
    this.lookAgain();
  }

  private lookAgain(): void {
    this.reasonsToLook += 1;
    this.mayFindWork = true;
    void this.wake();
  }

  /** Claims and delivers until nothing is due and nothing is in flight (tests, and a manual worker). */
  async runUntilIdle(): Promise<void> {
    this.mayFindWork = true;
    for (;;) {
      await this.wake();
      if (this.active.size === 0) {
        this.mayFindWork = true;
        await this.wake();
        if (this.active.size === 0) return;
      }
      await Promise.race(this.active);
    }
  }

  /** Claims work for the free slots; calls coalesce, and a finishing delivery calls again. */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    const pump = async () => {
      try {
        do {
          this.pumpAgain = false;
          for (;;) {
            const stale: ClaimedEndpoint[] = [];
            while (this.active.size < this.options.concurrency && this.queue.length && !this.stopped) {
              const endpoint = this.queue.shift()!;
              // Started within the lease's margin, the attempt ends (at its timeout) before the lease does.
              if (performance.now() - endpoint.claimedAt < this.options.leaseMarginMs) this.track(endpoint);
              else stale.push(endpoint);
            }
            await this.release(stale);
            const free = this.options.concurrency - this.active.size;
            if (free <= 0 || this.stopped || !this.mayFindWork) break;
            // Enough for the free slots and as many again, so the next deliveries that end find work waiting.
            const limit = free + this.options.concurrency - this.queue.length;
            const reasons = this.reasonsToLook;
            const claimed = await this.claim(limit);
            this.queue.push(...claimed);
            if (claimed.length < limit && reasons === this.reasonsToLook) this.mayFindWork = false;
            if (claimed.length === 0) break;
          }
        } while (this.pumpAgain && !this.stopped);
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'webhook claim failed; will retry');
      }
    };
    // Cleared in a callback, never inside pump: a pump with no free slot finishes without awaiting, and
    // clearing it there would run before the assignment below and leave a settled promise in place.
    this.pumping = pump().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  private track(endpoint: ClaimedEndpoint): void {
    const tracked: Promise<void> = this.deliverTo(endpoint)
      .catch((error) => this.options.logger?.warn({ err: error }, 'webhook delivery failed; will retry'))
      .finally(() => {
        this.active.delete(tracked);
        this.claimedHere.delete(endpoint);
        if (endpoint.announcedSince) {
          this.reasonsToLook += 1;
          this.mayFindWork = true;
        }
        void this.wake();
      });
    this.active.add(tracked);
  }

  private async claim(limit: number): Promise<ClaimedEndpoint[]> {
    const now = this.options.now();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw rows of CLAIM, read column by column below
    const [rows]: [Record<string, any>[]] = await this.db.query(CLAIM, [now, limit, this.leaseMs]);
    const claimed: ClaimedEndpoint[] = rows.map((row) => ({
      id: row.id,
      url: row.url,
      clientId: row.client_id,
      kinds: row.kinds,
      // The old secret signs alongside the new one until its overlap ends.
      secrets:
        row.previous_secret && row.previous_secret_until && new Date(row.previous_secret_until) > now
          ? [row.secret, row.previous_secret]
          : [row.secret],
      cursor: row.cursor,
      generation: row.generation,
      failedAttempts: row.failed_attempts,
      failingSince: row.failing_since ? new Date(row.failing_since) : null,
      leaseToken: row.lease_token,
      claimedAt: performance.now(),
      alerts: [],
    }));
    // Held from now: an alert announced while their alerts are read makes them due again once released.
    for (const endpoint of claimed) this.claimedHere.add(endpoint);
    // Every claimed endpoint's first batch of alerts, payloads built, in a fixed number of statements.
    let pending: Map<string, PendingAlert[]>;
    try {
      pending = await pendingAlerts(this.db, this.obligations, claimed, this.options.batchSize);
    } catch (error) {
      await this.release(claimed);
      throw error;
    }
    for (const endpoint of claimed) endpoint.alerts = pending.get(endpoint.id) ?? [];
    return claimed;
  }

  /** Sends the claimed endpoint's alerts one by one, in order, while they succeed. */
  private async deliverTo(endpoint: ClaimedEndpoint): Promise<void> {
    let state = endpoint;
    let alerts = endpoint.alerts;
    while (!this.stopped) {
      if (alerts.length === 0) {
        await this.db.query(
          `UPDATE webhook_endpoint SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2`,
          [state.id, state.leaseToken],
        );
        return;
      }
      // A short batch was all there was: its last attempt releases the lease itself, saving a read and an
      // update per delivery. An alert committed meanwhile is claimed by the wake that follows every delivery.
      const all = alerts.length < this.options.batchSize;
      for (const [index, alert] of alerts.entries()) {
        const goOn = await this.attempt(state, alert, !(all && index === alerts.length - 1));
        if (!goOn) return;
        state = { ...state, cursor: alert.alertId, failedAttempts: 0, failingSince: null };
        if (this.stopped) {
          // Let another instance take over at once instead of after the lease.
          await this.db.query(
            `UPDATE webhook_endpoint SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2`,
            [state.id, state.leaseToken],
          );
          return;
        }
      }
      // A full batch: there may be more (read for this endpoint alone; a backlog, not the common case).
      alerts = (await pendingAlerts(this.db, this.obligations, [state], this.options.batchSize)).get(
        state.id,
      )!;
    }
  }

  /** One attempt at one alert; true when the endpoint acknowledged it and is still this worker's. */
  private async attempt(
    endpoint: ClaimedEndpoint,
    alert: PendingAlert,
    keepLease: boolean,
  ): Promise<boolean> {
    const { options } = this;
    const attemptedAt = options.now();
    const attempt = endpoint.failedAttempts + 1;
    const result: OutgoingResult =
      options.requireHttps && !endpoint.url.startsWith('https:')
        ? {
            outcome: 'REFUSED_TARGET',
            statusCode: null,
            durationMs: 0,
            responseExcerpt: null,
            error: 'only https URLs are delivered to in production',
          }
        : await postOutgoing({
            url: endpoint.url,
            // Signed with the real time: receivers check the timestamp against their own clock.
            headers: signedHeaders(endpoint.secrets, alert.webhookId, new Date(), alert.body),
            body: alert.body,
            timeoutMs: options.timeoutMs,
            maxResponseBytes: options.maxResponseBytes,
            allowPrivateTargets: options.allowPrivateTargets,
            lookup: options.lookup,
          });
    const ok = result.outcome === 'SUCCESS';
    const now = options.now();
    const failingSince = ok ? null : (endpoint.failingSince ?? attemptedAt);
    const windowEnds = failingSince ? failingSince.getTime() + options.schedule.windowMs : 0;
    const disable = !ok && now.getTime() >= windowEnds;
    // The last retry falls at the window's end at the latest, so the window is what it says.
    const nextAttemptAt = ok
      ? now
      : new Date(
          Math.min(now.getTime() + retryDelayMs(attempt, options.schedule, options.random), windowEnds),
        );
    const disabledReason = disable
      ? `Deliveries failed for ${formatDuration(options.schedule.windowMs)} (${attempt} attempts at alert ${alert.webhookId} since ${failingSince!.toISOString()}); the last one: ${result.error}. Re-enable it with updateWebhookEndpoint(enabled: true) once it answers again.`
      : null;
    const [{ go_on: goOn }] = await this.db.query(RECORD, [
      endpoint.id,
      endpoint.leaseToken,
      endpoint.generation,
      ok,
      alert.alertId,
      failingSince,
      nextAttemptAt,
      disable,
      disabledReason,
      attemptedAt,
      this.leaseMs,
      alert.webhookId,
      attempt,
      result.durationMs,
      result.statusCode,
      result.outcome,
      result.error?.slice(0, 1000) ?? null,
      result.responseExcerpt === null ? null : stripNul(result.responseExcerpt),
      options.name,
      keepLease,
    ]);
    options.metrics?.deliveries.inc({ outcome: result.outcome });
    const log = { endpointId: endpoint.id, alertId: alert.alertId, webhookId: alert.webhookId, attempt };
    if (ok) {
      options.metrics?.latency.observe((Date.now() - alert.occurredAt.getTime()) / 1000);
      options.logger?.debug({ ...log, durationMs: result.durationMs }, 'webhook delivered');
    } else if (disable) {
      options.metrics?.disabled.inc();
      options.logger?.warn(
        { ...log, outcome: result.outcome, error: result.error },
        'webhook endpoint disabled',
      );
    } else {
      options.logger?.info(
        { ...log, outcome: result.outcome, error: result.error, nextAttemptAt },
        'webhook delivery failed; will retry',
      );
    }
    return goOn;
  }
}

function stripNul(text: string): string {
  // PostgreSQL text cannot hold NUL; a binary answer is kept readable enough for a person.
  return text.replaceAll(String.fromCharCode(0), '\uFFFD');
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
