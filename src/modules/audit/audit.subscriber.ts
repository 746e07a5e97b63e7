import { EntitySubscriberInterface, EventSubscriber, TransactionStartEvent } from 'typeorm';
import { scopeOf } from '../../common/request-scope';

/**
 * Stamps the mutation's actor (from the request scope its query runner carries, see common/request-scope.ts)
 * on every transaction it opens, transaction-locally (set_config(..., true):
 * never a session SET on a pooled connection). The audit triggers read it for each row they record.
 */
@EventSubscriber()
export class AuditActorSubscriber implements EntitySubscriberInterface {
  async afterTransactionStart(event: TransactionStartEvent): Promise<void> {
    const actor = scopeOf(event.queryRunner)?.audit;
    if (!actor) return;
    await event.queryRunner.query(`SELECT set_config('app.audit', $1, true)`, [JSON.stringify(actor)]);
  }
}
