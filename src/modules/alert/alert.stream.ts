import { GraphQLError } from 'graphql';
import { DataSource } from 'typeorm';
import { Viewer } from '../../auth/viewer';
import { AlertHub, AlertSink } from './alert.hub';
import { alertsAfter } from './alert.queries';
import { AlertEvent } from './alert.type';

export interface AlertStreamOptions {
  db: DataSource;
  hub: AlertHub;
  viewer: Viewer;
  /** Only this client's alerts (always the viewer's own for role client); null: all. */
  clientId: string | null;
  /** Replay every alert after this id first; null: live only. */
  after: bigint | null;
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

async function* streamEvents(options: AlertStreamOptions, state: { closed: boolean; wake: (() => void) | null }): AsyncGenerator<AlertEvent | StreamEnd> {
  const { db, hub, viewer, clientId, maxQueue } = options;
  const queue: AlertEvent[] = [];
  let overflowed = false;
  const expiryTimer = viewer.expiresAt ? setTimeout(() => state.wake?.(), Math.min(Math.max(viewer.expiresAt.getTime() - Date.now(), 0) + 10, 2 ** 31 - 1)) : null;
  expiryTimer?.unref();
  const sink: AlertSink = {
    clientId,
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
  hub.add(sink);
  try {
    const check = (): StreamEnd | null => {
      if (viewer.expiresAt && viewer.expiresAt.getTime() <= Date.now()) {
        return new StreamEnd(new GraphQLError('Your token has expired: subscribe again with a fresh token and after: the last alert id you received', { extensions: { code: 'UNAUTHENTICATED', resumeAfter: cursor.toString() } }));
      }
      if (overflowed) {
        return new StreamEnd(new GraphQLError(`Too many alerts are waiting for this subscriber (more than ${maxQueue}): the subscription ends; subscribe again with after: "${cursor}" to resume without loss`, { extensions: { code: 'SUBSCRIBER_TOO_SLOW', resumeAfter: cursor.toString() } }));
      }
      return null;
    };

    if (options.after !== null) {
      while (!state.closed) {
        const replay = await alertsAfter(db, cursor, clientId === null ? null : [clientId], REPLAY_BATCH);
        for (const event of replay) {
          const end = check();
          if (end) return yield end;
          cursor = event.seq;
          options.beforeEach?.();
          yield event;
        }
        if (replay.length < REPLAY_BATCH) break;
      }
    }

    while (!state.closed) {
      const end = check();
      if (end) return yield end;
      const event = queue.shift();
      if (!event) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
        state.wake = null;
        continue;
      }
      if (event.seq <= cursor) continue;
      cursor = event.seq;
      options.beforeEach?.();
      yield event;
    }
  } finally {
    if (expiryTimer) clearTimeout(expiryTimer);
    hub.remove(sink);
  }
}
