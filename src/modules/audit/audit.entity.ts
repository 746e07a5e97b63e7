import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Append-only audit trail. Rows are written by database triggers on every register table, in the
 * writing transaction, from the actor that the API stamps on the transaction (set_config('app.audit')).
 * Another trigger rejects UPDATE, DELETE and TRUNCATE, so the trail holds below the API too.
 */
@Entity('audit_event')
@Index('audit_event_record_idx', ['tableName', 'recordId', 'id'])
@Index('audit_event_actor_idx', ['actorSubject', 'id'])
@Index('audit_event_time_idx', ['occurredAt', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('timestamptz', { name: 'occurred_at', default: () => 'statement_timestamp()' })
  occurredAt: Date;

  @Column('text', { name: 'actor_subject' })
  actorSubject: string;

  @Column('text', { name: 'actor_role' })
  actorRole: string;

  @Column('uuid', { name: 'actor_client_id', nullable: true })
  actorClientId: string | null;

  @Column('text')
  operation: string;

  @Column('jsonb', { nullable: true })
  input: unknown;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Column('text', { name: 'table_name' })
  tableName: string;

  @Column('text', { name: 'record_id' })
  recordId: string;

  /** INSERT, UPDATE or DELETE. */
  @Column('text')
  action: string;

  /** The row after the change (before it, for DELETE). */
  @Column('jsonb', { name: 'row_data' })
  rowData: unknown;

  @Column('bigint', { name: 'transaction_id', default: () => 'txid_current()' })
  transactionId: string;
}
