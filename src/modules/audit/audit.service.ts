import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeGlobalId, encodeGlobalId, NodeTypeName } from '../../common/global-id';
import { Connection, PageArgs, SqlParams, listOrder, pageQuery } from '../../common/paging';
import { AuditEventEntity } from './audit.entity';
import { AuditEventFilter } from './audit.type';
import { assertValidFilter } from '../../common/validation';

const TABLE_OF: Record<NodeTypeName, string> = {
  Supplier: 'supplier',
  Client: 'client',
  Contract: 'contract',
  DataProcessingAgreement: 'data_processing_agreement',
  Incident: 'incident',
  Exposure: 'exposure',
  WebhookEndpoint: 'webhook_endpoint',
};
const TYPE_OF = new Map(Object.entries(TABLE_OF).map(([type, table]) => [table, type as NodeTypeName]));

/** The global ID of an audited record, where its table has a node type. */
export function auditRecordGlobalId(event: AuditEventEntity): string | null {
  const type = TYPE_OF.get(event.tableName);
  return type ? encodeGlobalId(type, event.recordId) : null;
}

export class AuditService {
  constructor(private readonly connection: TransactionalConnection) {}

  /** Admins only: the trail names every actor and client. Newest first. */
  list(
    viewer: Viewer,
    filter: AuditEventFilter | null | undefined,
    page: PageArgs,
  ): Promise<Connection<AuditEventEntity>> {
    requireRole(viewer, 'admin');
    assertValidFilter(AuditEventFilter, filter);
    const params = new SqlParams();
    const where: string[] = [];
    if (filter?.actorSubject) where.push(`t.actor_subject = ${params.param(filter.actorSubject)}`);
    if (filter?.operation) where.push(`t.operation = ${params.param(filter.operation)}`);
    if (filter?.from) where.push(`t.occurred_at >= ${params.param(filter.from)}`);
    if (filter?.to) where.push(`t.occurred_at < ${params.param(filter.to)}`);
    if (filter?.recordId) {
      const decoded = decodeGlobalId(filter.recordId);
      where.push(
        decoded
          ? `t.table_name = ${params.param(TABLE_OF[decoded.type])} AND t.record_id = ${params.param(decoded.id)}`
          : 'FALSE',
      );
    }
    return pageQuery(
      this.connection.manager,
      {
        entity: AuditEventEntity,
        from: 'audit_event t',
        where,
        params,
        order: listOrder('auditEvents', [{ sql: 't.id', cast: 'numeric', value: (e) => e.id }]),
        descending: true,
      },
      page,
    );
  }
}
