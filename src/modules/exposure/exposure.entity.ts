import {
  Check,
  Column,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { DataCategory, sqlValues } from '../../common/enums';
import { ClientEntity } from '../client/client.entity';
import { IncidentEntity } from '../incident/incident.entity';

export enum ExposureLevel {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL',
}

export enum NotificationStatus {
  ASSESSING = 'ASSESSING',
  REPORTED = 'REPORTED',
  NOT_REQUIRED = 'NOT_REQUIRED',
}

/** Rule 11: why the engine wrote a revision (the statement that wrote it passes one reason for all its rows). */
export enum ExposureChangeReason {
  INCIDENT_RECORDED = 'INCIDENT_RECORDED',
  INCIDENT_UPDATED = 'INCIDENT_UPDATED',
  REOPENED = 'REOPENED',
  REGISTER_CHANGED = 'REGISTER_CHANGED',
  CONTRACT_STARTED = 'CONTRACT_STARTED',
  /** A recorded correction moved an awareness moment (its stated reason is on the revision's note). */
  AWARENESS_CORRECTED = 'AWARENESS_CORRECTED',
  /** A notice was recorded for the client (recordClientNotice). */
  CLIENT_NOTIFIED = 'CLIENT_NOTIFIED',
}

export interface ExposureFactorValue {
  name: string;
  detail: string;
  contribution: number;
}

/**
 * One row per (incident, client), written only by the exposure engine. Never deleted: an exposure that
 * no longer applies gets resolved_at. Every change bumps `revision` and is copied to exposure_revision.
 */
@Entity('exposure')
@Unique('exposure_incident_client_key', ['incidentId', 'clientId'])
@Check('exposure_score_range', `score BETWEEN 0 AND 100`)
@Check('exposure_level_valid', `level IN (${sqlValues(Object.values(ExposureLevel))})`)
@Check('exposure_subjects_not_negative', `data_subjects_at_risk >= 0`)
@Check(
  'exposure_subjects_range_ordered',
  `0 <= data_subjects_at_risk_low AND data_subjects_at_risk_low <= data_subjects_at_risk_high`,
)
@Check(
  'exposure_categories_valid',
  `data_categories_at_risk <@ ARRAY[${sqlValues(Object.values(DataCategory))}]::text[]`,
)
@Check(
  'exposure_notification_status_valid',
  `notification_status IN (${sqlValues(Object.values(NotificationStatus))})`,
)
@Check(
  'exposure_reported_needs_date',
  `notification_status <> 'REPORTED' OR notification_reported_at IS NOT NULL`,
)
@Check(
  'exposure_not_required_needs_reason',
  `notification_status <> 'NOT_REQUIRED' OR length(btrim(notification_justification)) > 0`,
)
@Check('exposure_last_change_valid', `last_change IN ('NEW', 'CHANGED', 'RESOLVED')`)
// Lists show exposures that still apply, highest score first: partial indexes serve that order directly.
@Index('exposure_client_open_score_idx', ['clientId', 'score', 'id'], { where: 'resolved_at IS NULL' })
@Index('exposure_incident_open_score_idx', ['incidentId', 'score', 'id'], { where: 'resolved_at IS NULL' })
@Index('exposure_client_idx', ['clientId'])
// The obligation filters and the NEXT_DUE order (docs/regulatory-clocks.md, "Filtering and ordering").
@Index('exposure_open_next_due_idx', ['nextDueAt'], {
  where: 'resolved_at IS NULL AND next_due_at IS NOT NULL',
})
@Index('exposure_next_reminder_idx', ['nextReminderAt'], {
  where: 'resolved_at IS NULL AND next_reminder_at IS NOT NULL',
})
export class ExposureEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'incident_id' })
  incidentId: string;

  @ManyToOne(() => IncidentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'incident_id' })
  incident?: IncidentEntity;

  @Column('uuid', { name: 'client_id' })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'client_id' })
  client?: ClientEntity;

  @Column('integer', { default: 1 })
  revision: number;

  @Column('integer')
  score: number;

  @Column('text')
  level: ExposureLevel;

  @Column('jsonb')
  factors: ExposureFactorValue[];

  @Column('uuid', { name: 'contract_ids', array: true })
  contractIds: string[];

  @Column('text', { name: 'data_categories_at_risk', array: true })
  dataCategoriesAtRisk: DataCategory[];

  @Column('boolean', { name: 'special_category_data' })
  specialCategoryData: boolean;

  /** bigint: the sum over many agreements can pass 2^31. pg returns it as a string. */
  @Column('bigint', { name: 'data_subjects_at_risk' })
  dataSubjectsAtRisk: string;

  /** Rule 4's range: the largest agreement at risk (lower bound), scaled by the incident's share of data affected. */
  @Column('bigint', { name: 'data_subjects_at_risk_low' })
  dataSubjectsAtRiskLow: string;

  /** Rule 4's range: the sum over agreements at risk (upper bound), scaled by the incident's share of data affected. */
  @Column('bigint', { name: 'data_subjects_at_risk_high' })
  dataSubjectsAtRiskHigh: string;

  @Column('uuid', { array: true })
  path: string[];

  @Column('timestamptz', { name: 'first_computed_at' })
  firstComputedAt: Date;

  @Column('timestamptz', { name: 'aware_at' })
  awareAt: Date;

  /** Rule 5: when the client was first aware that personal data of its own was at risk; null: never yet. */
  @Column('timestamptz', { name: 'data_aware_at', nullable: true })
  dataAwareAt: Date | null;

  @Column('timestamptz', { name: 'notification_deadline' })
  notificationDeadline: Date;

  @Column('timestamptz', { name: 'computed_at' })
  computedAt: Date;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;

  /** Set by the engine when the exposure widened after a NOT_REQUIRED decision (kept until a new decision). */
  @Column('timestamptz', { name: 'review_needed_at', nullable: true })
  reviewNeededAt: Date | null;

  /**
   * The earliest dueAt among the obligations still open (Exposure.nextDueAt), kept by
   * obligation/obligation.clock.ts whenever one of its inputs changes: a revision, a trigger, a decision, the
   * client's regimes. Open-ness does not depend on the time of reading, so the stored value is exact.
   */
  @Column('timestamptz', { name: 'next_due_at', nullable: true })
  nextDueAt: Date | null;

  /** The earliest moment a reminder (DUE_SOON, OVERDUE) of an open obligation is due and not yet written. */
  @Column('timestamptz', { name: 'next_reminder_at', nullable: true })
  nextReminderAt: Date | null;

  /** Set only when a list is ordered by CLIENT_NAME: the client's name, read for the page's cursors. */
  sortClientName?: string;

  /** What the latest revision did: NEW, CHANGED or RESOLVED (the kind of the alert it wrote). */
  @Column('text', { name: 'last_change', default: 'NEW' })
  lastChange: 'NEW' | 'CHANGED' | 'RESOLVED';

  @Column('text', { name: 'notification_status', default: NotificationStatus.ASSESSING })
  notificationStatus: NotificationStatus;

  @Column('timestamptz', { name: 'notification_decided_at', nullable: true })
  notificationDecidedAt: Date | null;

  @Column('text', { name: 'notification_decided_by', nullable: true })
  notificationDecidedBy: string | null;

  @Column('timestamptz', { name: 'notification_reported_at', nullable: true })
  notificationReportedAt: Date | null;

  @Column('text', { name: 'notification_reference', nullable: true })
  notificationReference: string | null;

  @Column('text', { name: 'notification_justification', nullable: true })
  notificationJustification: string | null;
}

/** What the register believed about an exposure from `recorded_at` until the next revision. Append-only. */
@Entity('exposure_revision')
@Unique('exposure_revision_key', ['exposureId', 'revision'])
@Check('exposure_revision_reason_valid', `reason IN (${sqlValues(Object.values(ExposureChangeReason))})`)
@Index('exposure_revision_time_idx', ['exposureId', 'recordedAt'])
export class ExposureRevisionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'exposure_id' })
  exposureId: string;

  @ManyToOne(() => ExposureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'exposure_id' })
  exposure?: ExposureEntity;

  @Column('integer')
  revision: number;

  @Column('timestamptz', { name: 'recorded_at' })
  recordedAt: Date;

  @Column('integer')
  score: number;

  @Column('text')
  level: ExposureLevel;

  @Column('jsonb')
  factors: ExposureFactorValue[];

  @Column('uuid', { name: 'contract_ids', array: true })
  contractIds: string[];

  @Column('text', { name: 'data_categories_at_risk', array: true })
  dataCategoriesAtRisk: DataCategory[];

  @Column('boolean', { name: 'special_category_data' })
  specialCategoryData: boolean;

  @Column('bigint', { name: 'data_subjects_at_risk' })
  dataSubjectsAtRisk: string;

  @Column('bigint', { name: 'data_subjects_at_risk_low' })
  dataSubjectsAtRiskLow: string;

  @Column('bigint', { name: 'data_subjects_at_risk_high' })
  dataSubjectsAtRiskHigh: string;

  @Column('uuid', { array: true })
  path: string[];

  @Column('timestamptz', { name: 'aware_at' })
  awareAt: Date;

  @Column('timestamptz', { name: 'data_aware_at', nullable: true })
  dataAwareAt: Date | null;

  @Column('timestamptz', { name: 'notification_deadline' })
  notificationDeadline: Date;

  @Column('timestamptz', { name: 'computed_at' })
  computedAt: Date;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt: Date | null;

  /** null only on revisions written before reasons were kept. */
  @Column('text', { nullable: true })
  reason: ExposureChangeReason | null;

  /** A correction's stated reason (reason AWARENESS_CORRECTED); null otherwise. */
  @Column('text', { nullable: true })
  note: string | null;
}

/** Every notification decision ever recorded, with who and when (rule 9). Append-only. */
@Entity('notification_decision')
@Index('notification_decision_exposure_idx', ['exposureId', 'decidedAt'])
@Index('notification_decision_obligation_idx', ['exposureId', 'regime', 'milestone', 'decidedAt'])
@Check('notification_decision_status_valid', `status IN (${sqlValues(Object.values(NotificationStatus))})`)
export class NotificationDecisionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'exposure_id' })
  exposureId: string;

  @ManyToOne(() => ExposureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'exposure_id' })
  exposure?: ExposureEntity;

  @Column('text')
  status: NotificationStatus;

  @Column('timestamptz', { name: 'reported_at', nullable: true })
  reportedAt: Date | null;

  @Column('text', { nullable: true })
  reference: string | null;

  @Column('text', { nullable: true })
  justification: string | null;

  /** The obligation decided on (regimes.ts); decisions recorded before regimes were kept are UK GDPR Art. 33's. */
  @Column('text', { default: 'UK_GDPR' })
  regime: string;

  @Column('text', { default: 'NOTIFICATION' })
  milestone: string;

  /** What Art. 33(5) asks the controller to document: the facts, the effects and the remedial action taken. */
  @Column('text', { nullable: true })
  facts: string | null;

  @Column('text', { nullable: true })
  effects: string | null;

  @Column('text', { name: 'remedial_action', nullable: true })
  remedialAction: string | null;

  @Column('text', { name: 'decided_by_subject' })
  decidedBySubject: string;

  @Column('text', { name: 'decided_by_role' })
  decidedByRole: string;

  @Column('timestamptz', { name: 'decided_at' })
  decidedAt: Date;
}

/**
 * Which clients' register facts changed last, in the order of the engine's lock (exposure.lock.ts): every
 * register write that recomputes exposures marks its clients here (null client: every client, e.g. a
 * sub-processor link) while it holds the lock. recordIncident computes a new incident without the lock,
 * from a snapshot taken before; once it holds the lock it reads the marks newer than the newest it could
 * see then, and recomputes those clients, so a register write that committed meanwhile is not missed.
 * One row per client (the latest mark), plus one for "every client".
 */
@Entity('exposure_input_change')
export class ExposureInputChangeEntity {
  /** The client whose facts changed; EVERY_CLIENT for a change that can move any client's exposure. */
  @PrimaryColumn('uuid', { name: 'client_id' })
  clientId: string;

  /** Drawn under the engine's lock, so marks are numbered in commit order. */
  @Column('bigint')
  @Generated('increment')
  seq: string;
}
