import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader, childPageLoader, countLoader, groupLoader } from '../../common/loaders';
import {
  SqlParams,
  childCountsQuery,
  childPagesQuery,
  hydrate,
  listColumns,
  listOrder,
} from '../../common/paging';
import { OLDEST_PENDING_ALERT, OLDEST_PENDING_AT } from './webhook.delivery';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entity';

/** Newest attempt first. */
export const WEBHOOK_DELIVERY_ORDER = listOrder<WebhookDeliveryEntity>('webhookDeliveries', [
  { sql: 't.id', cast: 'numeric', value: (d) => d.id },
]);

export function createWebhookLoaders(db: DataSource, viewer: Viewer) {
  const scope = clientScope(viewer);
  return {
    /** A client-role viewer loads only its own client's endpoints: any other id is a miss. */
    webhookEndpointById: byIdLoader<WebhookEndpointEntity>(async (ids) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT ${listColumns(db, WebhookEndpointEntity, ['secret', 'previousSecret'])} FROM webhook_endpoint t
         WHERE t.id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR t.client_id = $2::uuid)`,
        [ids, scope],
      );
      return rows.map((row) => hydrate(db, WebhookEndpointEntity, row));
    }),
    /** Deliveries are reached only through an endpoint the viewer may see. */
    webhookDeliveryPagesByEndpoint: childPageLoader<WebhookDeliveryEntity>((endpointIds, args) =>
      childPagesQuery(
        db,
        {
          entity: WebhookDeliveryEntity,
          from: 'webhook_delivery t',
          where: [],
          params: new SqlParams(),
          order: WEBHOOK_DELIVERY_ORDER,
          descending: true,
        },
        't.endpoint_id',
        endpointIds,
        args,
      ),
    ),
    webhookDeliveryCountsByEndpoint: countLoader((endpointIds) =>
      childCountsQuery(db, 'webhook_delivery t', [], new SqlParams(), 't.endpoint_id', endpointIds),
    ),
    /** The oldest alert each endpoint has not acknowledged yet (none: absent). */
    oldestUndeliveredAlertAtByEndpoint: groupLoader<Date>(async (endpointIds) => {
      const rows: { id: string; at: Date | null }[] = await db.query(
        `SELECT e.id, ${OLDEST_PENDING_AT} AS at FROM webhook_endpoint e ${OLDEST_PENDING_ALERT}
         WHERE e.id = ANY($1::uuid[])`,
        [endpointIds],
      );
      return new Map(rows.filter((row) => row.at).map((row) => [row.id, [row.at!]]));
    }),
  };
}
