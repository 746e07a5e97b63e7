import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { sqlValues } from '../../common/enums';
import { ExposureEntity } from '../exposure/exposure.entity';
import { ObligationMilestone, RegulatoryRegime } from '../obligation/regimes';

export enum AlertKind {
  NEW = 'NEW',
  CHANGED = 'CHANGED',
  RESOLVED = 'RESOLVED',
  /** The exposure widened after a NOT_REQUIRED decision: the decision needs review. */
  REVIEW_NEEDED = 'REVIEW_NEEDED',
  /** An obligation's deadline is near (docs/regulatory-clocks.md). */
  DUE_SOON = 'DUE_SOON',
  /** An obligation's deadline passed with no decision. */
  OVERDUE = 'OVERDUE',
}

/**
 * Transactional outbox: one row per exposure that appears, changes or resolves, written by the
 * exposure engine in the same transaction. The ordered id is the register-wide replay cursor (admin and
 * analyst); clientSeq numbers each client's own alerts 1, 2, 3, … in the same order, and is the cursor a
 * client sees, so the gaps in it reveal nothing about other clients' alerts.
 */
@Entity('exposure_alert')
@Check('exposure_alert_kind_valid', `kind IN (${sqlValues(Object.values(AlertKind))})`)
@Index('exposure_alert_client_idx', ['clientId', 'id'])
@Unique('exposure_alert_client_seq_key', ['clientId', 'clientSeq'])
export class ExposureAlertEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** This client's alert number: gap-free per client, assigned by the engine under its lock (order as id). */
  @Column('bigint', { name: 'client_seq' })
  clientSeq: string;

  @Column('uuid', { name: 'exposure_id' })
  exposureId: string;

  @ManyToOne(() => ExposureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'exposure_id' })
  exposure?: ExposureEntity;

  @Column('uuid', { name: 'client_id' })
  clientId: string;

  @Column('uuid', { name: 'incident_id' })
  incidentId: string;

  @Column('text')
  kind: AlertKind;

  /** The exposure revision this alert announces. */
  @Column('integer')
  revision: number;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;

  /** DUE_SOON and OVERDUE: the obligation reminded of (null for other kinds). */
  @Column('text', { nullable: true })
  regime: RegulatoryRegime | null;

  @Column('text', { nullable: true })
  milestone: ObligationMilestone | null;

  /** DUE_SOON and OVERDUE: the obligation's dueAt when the reminder was written. */
  @Column('timestamptz', { name: 'due_at', nullable: true })
  dueAt: Date | null;
}
