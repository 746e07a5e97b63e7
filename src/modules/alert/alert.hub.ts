import { Client } from 'pg';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ALERT_CHANNEL } from './alert.notify';
import { alertLeaveOut, alertsAfter, latestAlertId, newAlerts } from './alert.queries';
import { AlertEvent } from './alert.type';

export interface AlertSink {
  /** Only this client's alerts; null: all. */
  readonly clientId: string | null;
  /** The Exposure fields its subscription selects on an alert's exposure (null: it may need every column). */
  readonly exposureFields: ReadonlySet<string> | null;
  deliver(event: AlertEvent): void;
}

export interface AlertHubOptions {
  connectionString: string;
  /** Catch-up poll and liveness check of the listening connection (node-postgres#967: it can stop silently). */
  pollMs?: number;
  batchSize?: number;
  logger?: Logger;
}

/**
 * One per API instance. Holds one dedicated LISTEN connection; each NOTIFY (payload: the newest alert id)
 * makes it read every alert after the last one it dispatched, once, and hand each to the matching
 * subscribers. Alert ids are assigned under the exposure engine's advisory lock, i.e. in commit order,
 * so reading "id > cursor" never skips a row. If the connection drops (database restart), it reconnects
 * with backoff and catches up from its cursor: nothing committed meanwhile is lost.
 */
export class AlertHub {
  private listener: Client | null = null;
  private cursor = 0n;
  /** Subscribers to every alert, and subscribers by client: dispatch costs the matches, not all subscribers. */
  private readonly allSinks = new Set<AlertSink>();
  private readonly sinksByClient = new Map<string, Set<AlertSink>>();
  /**
   * The Exposure fields the sinks select, with how many sinks select each, and the sinks that need every
   * column: a wake-up reads only the exposure columns some subscriber shows (alertLeaveOut).
   */
  private readonly exposureFieldCounts = new Map<string, number>();
  private sinksNeedingEveryColumn = 0;
  private leaveOutCache: string[] | null = null;
  /** Told when new alerts were committed (the webhook worker), without reading them here. */
  private readonly newAlertListeners = new Set<() => void>();
  private fetching: Promise<void> | null = null;
  private fetchAgain = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs = 250;
  private stopped = false;
  /** For metrics and tests: how many times the listener (re)connected. */
  connections = 0;

  constructor(
    private readonly db: DataSource,
    private readonly options: AlertHubOptions,
  ) {}

  async start(): Promise<void> {
    this.cursor = await latestAlertId(this.db);
    await this.connect();
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 2000);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.fetching;
  }

  /** The id of the newest alert dispatched so far: a live-only subscriber starts after it. */
  get position(): bigint {
    return this.cursor;
  }

  get subscriberCount(): number {
    let count = this.allSinks.size;
    for (const sinks of this.sinksByClient.values()) count += sinks.size;
    return count;
  }

  add(sink: AlertSink): void {
    const set =
      sink.clientId === null
        ? this.allSinks
        : (this.sinksByClient.get(sink.clientId) ?? new Set<AlertSink>());
    if (sink.clientId !== null) this.sinksByClient.set(sink.clientId, set);
    if (set.has(sink)) return;
    set.add(sink);
    this.countFields(sink, 1);
  }

  remove(sink: AlertSink): void {
    const set = sink.clientId === null ? this.allSinks : this.sinksByClient.get(sink.clientId);
    if (!set?.delete(sink)) return;
    this.countFields(sink, -1);
    // Emptied client sets go, so "anyone listening?" is just whether the two collections are empty.
    if (sink.clientId !== null && set.size === 0) this.sinksByClient.delete(sink.clientId);
  }

  private countFields(sink: AlertSink, delta: 1 | -1): void {
    this.leaveOutCache = null;
    if (sink.exposureFields === null) {
      this.sinksNeedingEveryColumn += delta;
      return;
    }
    for (const field of sink.exposureFields) {
      const count = (this.exposureFieldCounts.get(field) ?? 0) + delta;
      if (count > 0) this.exposureFieldCounts.set(field, count);
      else this.exposureFieldCounts.delete(field);
    }
  }

  /** The exposure properties no current sink shows, sorted: what a wake-up's read leaves out. */
  private leaveOut(): string[] {
    this.leaveOutCache ??=
      this.sinksNeedingEveryColumn > 0 ? [] : alertLeaveOut(new Set(this.exposureFieldCounts.keys()));
    return this.leaveOutCache;
  }

  /** Whether a read that left out `leftOut` has every column the current sinks show. */
  private readEnough(leftOut: readonly string[]): boolean {
    if (leftOut.length === 0) return true;
    const now = this.leaveOut();
    return leftOut.every((property) => now.includes(property));
  }

  /** Calls `listener` whenever alerts newer than the last dispatched ones were committed. */
  onNewAlerts(listener: () => void): () => void {
    this.newAlertListeners.add(listener);
    return () => this.newAlertListeners.delete(listener);
  }

  /** Reads and dispatches everything committed after the cursor; concurrent calls coalesce. */
  catchUp(): Promise<void> {
    if (this.fetching) {
      this.fetchAgain = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        do {
          this.fetchAgain = false;
          // Everything up to `newest` is committed (ids follow commit order), so after reading the
          // alerts our subscribers want, the cursor can jump to it: nobody else's alerts are loaded.
          // With subscribers, the newest id comes with the first batch (one round trip per wake-up).
          let newest: bigint;
          if (this.allSinks.size > 0 || this.sinksByClient.size > 0) {
            const clientIds = this.allSinks.size > 0 ? null : [...this.sinksByClient.keys()];
            const batchSize = this.options.batchSize ?? 2000;
            let events: AlertEvent[];
            let leaveOut = this.leaveOut();
            ({ newest, events } = await newAlerts(this.db, this.cursor, clientIds, batchSize, leaveOut));
            if (newest <= this.cursor) continue;
            for (;;) {
              // A subscriber that came during the read may show a column it left out: read the batch again
              // (the same alerts: everything up to `newest` was committed) before anyone gets it.
              while (!this.readEnough(leaveOut)) {
                leaveOut = this.leaveOut();
                events = await alertsAfter(this.db, this.cursor, clientIds, batchSize, newest, leaveOut);
              }
              for (const event of events) {
                this.cursor = event.seq;
                for (const sink of this.allSinks) sink.deliver(event);
                for (const sink of this.sinksByClient.get(event.clientId) ?? []) sink.deliver(event);
              }
              if (events.length < batchSize) break;
              leaveOut = this.leaveOut();
              events = await alertsAfter(this.db, this.cursor, clientIds, batchSize, newest, leaveOut);
            }
          } else {
            newest = await latestAlertId(this.db);
            if (newest <= this.cursor) continue;
          }
          this.cursor = newest;
          for (const listener of this.newAlertListeners) listener();
        } while (this.fetchAgain && !this.stopped);
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'alert catch-up failed; will retry');
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.listener) {
      // A query on the listening connection proves it is alive; a dead one errors and reconnects.
      await this.listener.query('SELECT 1').catch((error) => this.onListenerLost(error));
    }
    await this.catchUp();
  }

  private async connect(): Promise<void> {
    const listener = new Client({
      connectionString: this.options.connectionString,
      keepAlive: true,
      application_name: 'register-alert-listener',
    });
    listener.on('notification', () => void this.catchUp());
    listener.on('error', (error) => this.onListenerLost(error));
    listener.on('end', () => this.onListenerLost(new Error('listening connection ended')));
    try {
      await listener.connect();
      await listener.query(`LISTEN ${ALERT_CHANNEL}`);
    } catch (error) {
      await listener.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await listener.end().catch(() => undefined);
      return;
    }
    this.listener = listener;
    this.connections += 1;
    this.reconnectDelayMs = 250;
    // Whatever was committed while no one listened is read now.
    await this.catchUp();
  }

  private onListenerLost(error: unknown): void {
    if (this.stopped || !this.listener) return;
    this.options.logger?.warn({ err: error }, 'alert listener lost; reconnecting');
    const lost = this.listener;
    this.listener = null;
    lost.removeAllListeners();
    lost.on('error', () => undefined);
    void lost.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.connect();
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'alert listener reconnect failed');
        this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 5000);
        this.scheduleReconnect();
      }
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
  }
}
