import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { sqlValues } from '../../common/enums';
import { AlertKind } from '../alert/alert.entity';
import { ClientEntity } from '../client/client.entity';

/** What happened to one delivery attempt. */
export enum WebhookDeliveryOutcome {
  SUCCESS = 'SUCCESS',
  HTTP_ERROR = 'HTTP_ERROR',
  TIMEOUT = 'TIMEOUT',
  NETWORK_ERROR = 'NETWORK_ERROR',
  REFUSED_TARGET = 'REFUSED_TARGET',
}

/**
 * A receiver of alerts by HTTP POST, and its delivery state: the endpoint row is its own queue cursor.
 * `cursor` is the register-wide id of the last alert it acknowledged (2xx); the next one is the first
 * matching alert after it in the outbox (exposure_alert), so alerts go out in order, one at a time, and
 * nothing is copied per endpoint. A worker claims an endpoint with FOR UPDATE SKIP LOCKED and leases it
 * (lease_token, lease_until) while it sends; `generation` changes when a replay moves the cursor, so an
 * attempt in flight cannot move it back.
 */
@Entity('webhook_endpoint')
@Check('webhook_endpoint_kinds_valid', `kinds <@ ARRAY[${sqlValues(Object.values(AlertKind))}]::text[]`)
@Check('webhook_endpoint_kinds_not_empty', `cardinality(kinds) > 0`)
@Check('webhook_endpoint_url_length', `length(url) BETWEEN 1 AND 2000`)
@Index('webhook_endpoint_client_idx', ['clientId', 'registeredAt', 'id'])
@Index('webhook_endpoint_created_idx', ['registeredAt', 'id'])
@Index('webhook_endpoint_due_idx', ['nextAttemptAt'], { where: 'enabled' })
export class WebhookEndpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  url: string;

  /** Only this client's alerts (numbered as the client sees them); null: every client's, register-wide ids. */
  @Column('uuid', { name: 'client_id', nullable: true })
  clientId: string | null;

  @ManyToOne(() => ClientEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'client_id', foreignKeyConstraintName: 'webhook_endpoint_client_fk' })
  client?: ClientEntity;

  @Column('text', { array: true })
  kinds: AlertKind[];

  @Column('text', { nullable: true })
  description: string | null;

  @Column('boolean', { default: true })
  enabled: boolean;

  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  @Column('timestamptz', { name: 'disabled_at', nullable: true })
  disabledAt: Date | null;

  /**
   * The signing secret (whsec_…), readable by the API's role because the worker signs with it; it is
   * returned once, by the mutation that made it, and never again.
   */
  @Column('text')
  secret: string;

  /** The secret before the last rotation, still signing alongside until previous_secret_until. */
  @Column('text', { name: 'previous_secret', nullable: true })
  previousSecret: string | null;

  @Column('timestamptz', { name: 'previous_secret_until', nullable: true })
  previousSecretUntil: Date | null;

  @Column('bigint', { default: 0 })
  cursor: string;

  @Column('integer', { default: 0 })
  generation: number;

  /** Failed attempts at the alert after the cursor (0: none failed). */
  @Column('integer', { name: 'failed_attempts', default: 0 })
  failedAttempts: number;

  /** When the first of those attempts failed: the retry window counts from here. */
  @Column('timestamptz', { name: 'failing_since', nullable: true })
  failingSince: Date | null;

  @Column('timestamptz', { name: 'next_attempt_at', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column('uuid', { name: 'lease_token', nullable: true })
  leaseToken: string | null;

  @Column('timestamptz', { name: 'lease_until', nullable: true })
  leaseUntil: Date | null;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  /** Named so (not createdAt) because lists read it: common/paging leaves bookkeeping createdAt out of lists. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  registeredAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** One attempt to deliver one alert to one endpoint: what was sent and what came back. */
@Entity('webhook_delivery')
@Check('webhook_delivery_outcome_valid', `outcome IN (${sqlValues(Object.values(WebhookDeliveryOutcome))})`)
@Index('webhook_delivery_endpoint_idx', ['endpointId', 'id'])
/** The daily pruning past WEBHOOK_DELIVERY_RETENTION (webhook.pruning.ts) reads the oldest attempts only. */
@Index('webhook_delivery_attempted_idx', ['attemptedAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'endpoint_id' })
  endpointId: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: WebhookEndpointEntity;

  /** The register-wide alert id (exposure_alert.id). */
  @Column('bigint', { name: 'alert_id' })
  alertId: string;

  /** The webhook-id header sent: the alert's id as the endpoint's viewer sees it. */
  @Column('text', { name: 'webhook_id' })
  webhookId: string;

  /** 1 for the first attempt at this alert, 2 for the first retry, … */
  @Column('integer')
  attempt: number;

  @Column('timestamptz', { name: 'attempted_at' })
  attemptedAt: Date;

  @Column('integer', { name: 'duration_ms' })
  durationMs: number;

  @Column('integer', { name: 'status_code', nullable: true })
  statusCode: number | null;

  @Column('text')
  outcome: WebhookDeliveryOutcome;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('text', { name: 'response_excerpt', nullable: true })
  responseExcerpt: string | null;

  /** Which instance sent it (WEBHOOK_WORKER_NAME or host:pid), for operators. */
  @Column('text')
  worker: string;
}
