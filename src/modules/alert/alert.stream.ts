import { GraphQLError } from 'graphql';
import { DataSource } from 'typeorm';
import { Viewer } from '../../auth/viewer';
import { AlertHub, AlertSink } from './alert.hub';
import { alertLeaveOut, alertsAfter, clientAlertId, clientSeqAt, latestAlertId } from './alert.queries';
import { AlertEvent, alertIdSeenBy } from './alert.type';
import { ErrorCode } from '../../common/error-code';

export interface AlertStreamOptions {
  db: DataSource;
  hub: AlertHub;
  viewer: Viewer;
  /** Only this client's alerts (always the viewer's own for role client); null: all. */
  clientId: string | null;
  /** Replay every alert after this register-wide id first; null: live only. */
  after: bigint | null;
  /** The Exposure fields the subscription selects on an alert's exposure (null: every column is read). */
  exposureFields: ReadonlySet<string> | null;
  /** Bound of the per-subscription queue; past it the subscription ends (a slow subscriber). */
  maxQueue: number;
  /** Called before each event is handed out (fresh DataLoaders per event). */
  beforeEach?: () => void;
}

/** Ends a subscription with a reason the client can act on; the resolver throws it as a GraphQL error. */
export class StreamEnd {
  constructor(public readonly error: GraphQLError) {}
}

const REPLAY_BATCH = 500;

/**
 * Opens a subscriber's stream from `after` as the viewer numbers alerts (alertIdSeenBy): a client's own
 * number is turned into the register-wide id once, here, and the stream works on register-wide ids.
 * An id not issued yet is refused (BAD_USER_INPUT), so a typo never turns into a silent wait.
 */
export async function openAlertStream(
  options: Omit<AlertStreamOptions, 'after'>,
  after: bigint | null,
): Promise<AsyncIterableIterator<AlertEvent | StreamEnd>> {
  const { db, viewer, clientId } = options;
  if (after === null) return alertStream({ ...options, after: null });
  let registerId: bigint | null;
  let newest: bigint;
  if (viewer.role === 'client') {
    ({ id: registerId, newest } = await clientAlertId(db, clientId!, after));
  } else {
    newest = await latestAlertId(db);
    registerId = after <= newest ? after : null;
  }
  if (registerId === null) {
    throw new GraphQLError(
      `after: "${after}" has not been issued yet: the newest alert id you can resume after is "${newest}"; pass the id of an alert you received (or omit after to receive only new alerts)`,
      {
        extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: 'after' },
      },
    );
  }
  return alertStream({ ...options, after: registerId });
}

/**
 * One subscriber's alerts, in id order, with no gap and no duplicate: it registers with the hub first
 * (so nothing committed from now on is missed), replays from the table up to the present, then hands
 * out queued live events, skipping any id it already delivered.
 */
export function alertStream(options: AlertStreamOptions): AsyncIterableIterator<AlertEvent | StreamEnd> {
  const state = { closed: false, wake: null as (() => void) | null };
  const generator = streamEvents(options, state);
  // An async generator parked on an await cannot be returned from outside; closing wakes it so it can end.
  return {
    next: () => generator.next(),
    async return() {
      state.closed = true;
      state.wake?.();
      return generator.return(undefined);
    },
    throw: (error?: unknown) => generator.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* streamEvents(
  options: AlertStreamOptions,
  state: { closed: boolean; wake: (() => void) | null },
): AsyncGenerator<AlertEvent | StreamEnd> {
  const { db, hub, viewer, clientId, maxQueue, exposureFields } = options;
  const queue: AlertEvent[] = [];
  let overflowed = false;
  const expiryTimer = viewer.expiresAt
    ? setTimeout(
        () => state.wake?.(),
        Math.min(Math.max(viewer.expiresAt.getTime() - Date.now(), 0) + 10, 2 ** 31 - 1),
      )
    : null;
  expiryTimer?.unref();
  const sink: AlertSink = {
    clientId,
    exposureFields,
    deliver(event) {
      if (overflowed) return;
      if (queue.length >= maxQueue) {
        overflowed = true;
        queue.length = 0;
      } else {
        queue.push(event);
      }
      state.wake?.();
    },
  };
  let cursor = options.after ?? hub.position;
  // The cursor as the viewer numbers alerts, for resumeAfter: the last delivered alert's id as it saw it;
  // before any, a client's number at `cursor` is looked up only if the stream ends (most never do).
  let seen: string | null = viewer.role === 'client' ? null : cursor.toString();
  const resumeAfter = async (): Promise<string> => (seen ??= await clientSeqAt(db, clientId!, cursor));
  hub.add(sink);
  try {
    // Checked before each event, so kept synchronous; only an ending stream awaits (its resumeAfter).
    const expired = (): boolean => viewer.expiresAt !== undefined && viewer.expiresAt.getTime() <= Date.now();
    const ending = (): boolean => expired() || overflowed;
    const end = async (): Promise<StreamEnd> => {
      const id = await resumeAfter();
      if (expired()) {
        return new StreamEnd(
          new GraphQLError(
            'Your token has expired: subscribe again with a fresh token and after: the last alert id you received',
            { extensions: { code: ErrorCode.UNAUTHENTICATED, resumeAfter: id } },
          ),
        );
      }
      return new StreamEnd(
        new GraphQLError(
          `Too many alerts are waiting for this subscriber (more than ${maxQueue}): the subscription ends; subscribe again with after: "${id}" to resume without loss`,
          { extensions: { code: ErrorCode.SUBSCRIBER_TOO_SLOW, resumeAfter: id } },
        ),
      );
    };
    const delivered = (event: AlertEvent): void => {
      cursor = event.seq;
      seen = alertIdSeenBy(viewer.role, event);
    };

    if (options.after !== null) {
      const leaveOut = alertLeaveOut(exposureFields);
      const clientIds = clientId === null ? null : [clientId];
      while (!state.closed) {
        const replay = await alertsAfter(db, cursor, clientIds, REPLAY_BATCH, null, leaveOut);
        for (const event of replay) {
          if (ending()) return yield await end();
          delivered(event);
          options.beforeEach?.();
          yield event;
        }
        if (replay.length < REPLAY_BATCH) break;
      }
    }

    while (!state.closed) {
      if (ending()) return yield await end();
      const event = queue.shift();
      if (!event) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
        state.wake = null;
        continue;
      }
      if (event.seq <= cursor) continue;
      delivered(event);
      options.beforeEach?.();
      yield event;
    }
  } finally {
    if (expiryTimer) clearTimeout(expiryTimer);
    hub.remove(sink);
  }
}
