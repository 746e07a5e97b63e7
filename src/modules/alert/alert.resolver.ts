import { GraphQLError, GraphQLResolveInfo } from 'graphql';
import { fieldsOf } from '../../common/selection';
import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import { Context } from '../../context';
import { decodeIdOf } from '../../common/global-id';
import { forbidden } from '../../auth/viewer';
import { AlertEvent, ExposureAlert, alertIdSeenBy } from './alert.type';
import { StreamEnd, openAlertStream } from './alert.stream';
import { ErrorCode } from '../../common/error-code';

/**
 * One event of the subscription, as the subscriber receives it. Runs once per alert per subscriber, so
 * schema.ts calls it directly for Subscription.exposureAlerts: the arguments were applied once, by
 * `subscribe`, and need no converting again for every event.
 */
export function deliverAlert(event: AlertEvent | StreamEnd, ctx: Context): ExposureAlert {
  if (event instanceof StreamEnd) throw event.error;
  // Checked again for each event: the stream is already filtered, this guards against any future change to it.
  if (ctx.viewer.role === 'client' && event.clientId !== ctx.viewer.clientId) throw forbidden();
  ctx.alerts?.observeLatency?.((Date.now() - event.occurredAt.getTime()) / 1000);
  return {
    id: alertIdSeenBy(ctx.viewer.role, event),
    kind: event.kind,
    occurredAt: event.occurredAt,
    exposure: event.exposure,
    regime: event.regime,
    milestone: event.milestone,
    dueAt: event.dueAt,
  };
}

/**
 * The fields a subscription selects on its alerts' exposure (through fragments; @skip/@include count as
 * selected): the hub and the replay read only the exposure columns these show (alertLeaveOut).
 */
export function selectedExposureFields(
  info: Pick<GraphQLResolveInfo, 'fragments' | 'fieldNodes'>,
): Set<string> {
  const selected = new Set<string>();
  for (const alerts of info.fieldNodes) {
    for (const field of fieldsOf(alerts.selectionSet, info)) {
      if (field.name.value !== 'exposure') continue;
      for (const shown of fieldsOf(field.selectionSet, info)) selected.add(shown.name.value);
    }
  }
  return selected;
}

const MAX_BIGINT = 2n ** 63n - 1n;

function badArgument(message: string, argumentName: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName } });
}

@Resolver(() => ExposureAlert)
export class AlertResolver {
  @Subscription(() => ExposureAlert, {
    description:
      "Alerts for exposures as they appear, change or resolve. A client-role caller receives only its own client's alerts; admin and analyst may pass clientId or receive all. `after` replays every alert after that alert id, then goes on live, with no gap and no duplicate. Ids are as ExposureAlert.id describes: a client's own alert numbers for a client-role caller, register-wide ids for admin and analyst.",
    subscribe: ({ args, context, info }) => {
      const ctx = context as Context;
      const alerts = ctx.alerts;
      if (!alerts)
        throw new GraphQLError('Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql', {
          extensions: { code: ErrorCode.BAD_REQUEST },
        });
      let clientId: string | null = null;
      if (args.clientId) {
        clientId = decodeIdOf('Client', args.clientId);
        if (!clientId) throw badArgument('clientId is not the ID of a client', 'clientId');
      }
      if (ctx.viewer.role === 'client') {
        if (clientId && clientId !== ctx.viewer.clientId)
          throw forbidden('A client may subscribe only to its own alerts');
        clientId = ctx.viewer.clientId;
      }
      let after: bigint | null = null;
      if (args.after !== undefined && args.after !== null) {
        // Alert ids are PostgreSQL bigints: a longer or larger number cannot be one.
        if (!/^\d{1,19}$/.test(args.after) || BigInt(args.after) > MAX_BIGINT)
          throw badArgument('after must be an alert id received from this subscription', 'after');
        after = BigInt(args.after);
      }
      return openAlertStream(
        {
          db: alerts.db,
          hub: alerts.hub,
          viewer: ctx.viewer,
          clientId,
          exposureFields: selectedExposureFields(info),
          maxQueue: alerts.maxQueue,
          beforeEach: () => ctx.renewLoaders(),
        },
        after,
      );
    },
  })
  exposureAlerts(
    @Root() event: AlertEvent | StreamEnd,
    @Arg('clientId', () => ID, {
      nullable: true,
      description: "Only this client's alerts (admin and analyst). A client-role caller always gets its own.",
    })
    _clientId: string | null,
    @Arg('after', () => ID, {
      nullable: true,
      description:
        'Replay every alert after this alert id first (resume after a disconnect), as this caller receives ids (see ExposureAlert.id; 0: from the first alert). An id not issued yet is refused with BAD_USER_INPUT.',
    })
    _after: string | null,
    @Ctx() ctx: Context,
  ): ExposureAlert {
    return deliverAlert(event, ctx);
  }
}
