import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { sqlValues } from '../../common/enums';
import { ClientEntity } from '../client/client.entity';
import { ExposureEntity } from '../exposure/exposure.entity';
import { IncidentEntity } from '../incident/incident.entity';
import { RegulatoryRegime } from './regimes';

/**
 * Rule 5: when a client was told of an incident (recordClientNotice). Append-only. A notice with a `reason`
 * is a correction: it replaces the client's earlier notices for that incident, and may move its awareness later.
 */
@Entity('client_notice')
@Index('client_notice_incident_client_idx', ['incidentId', 'clientId', 'id'])
export class ClientNoticeEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
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

  @Column('timestamptz', { name: 'notice_at' })
  noticeAt: Date;

  @Column('text', { nullable: true })
  channel: string | null;

  @Column('text', { nullable: true })
  note: string | null;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('text', { name: 'recorded_by_subject' })
  recordedBySubject: string;

  @Column('text', { name: 'recorded_by_role' })
  recordedByRole: string;

  @Column('timestamptz', { name: 'recorded_at' })
  recordedAt: Date;
}

/**
 * What the register cannot know (classification as major, significance, high risk), recorded per exposure and
 * regime (recordObligationTrigger). Append-only; the earliest trigger per regime counts.
 */
@Entity('obligation_trigger')
@Index('obligation_trigger_exposure_idx', ['exposureId', 'regime'])
@Check('obligation_trigger_regime_valid', `regime IN (${sqlValues(Object.values(RegulatoryRegime))})`)
export class ObligationTriggerEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'exposure_id' })
  exposureId: string;

  @ManyToOne(() => ExposureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'exposure_id' })
  exposure?: ExposureEntity;

  @Column('text')
  regime: RegulatoryRegime;

  @Column('timestamptz', { name: 'triggered_at' })
  triggeredAt: Date;

  @Column('text')
  reason: string;

  @Column('text', { name: 'recorded_by_subject' })
  recordedBySubject: string;

  @Column('text', { name: 'recorded_by_role' })
  recordedByRole: string;

  @Column('timestamptz', { name: 'recorded_at' })
  recordedAt: Date;
}

/**
 * Each reminder of an obligation (DUE_SOON 24 h and 4 h before, or a fifth of a short window; OVERDUE),
 * written once: the key is the obligation and the moment the reminder falls due. `alertId` is the alert it
 * wrote; null when it was passed over because a later reminder of the same obligation was already due when
 * the job reached it (after downtime, or an obligation that opened already late). Append-only.
 */
@Entity('obligation_reminder')
@Unique('obligation_reminder_key', ['exposureId', 'regime', 'milestone', 'kind', 'remindAt'])
@Check('obligation_reminder_kind_valid', `kind IN ('DUE_SOON', 'OVERDUE')`)
export class ObligationReminderEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'exposure_id' })
  exposureId: string;

  @ManyToOne(() => ExposureEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'exposure_id' })
  exposure?: ExposureEntity;

  @Column('text')
  regime: RegulatoryRegime;

  @Column('text')
  milestone: string;

  @Column('text')
  kind: 'DUE_SOON' | 'OVERDUE';

  @Column('timestamptz', { name: 'remind_at' })
  remindAt: Date;

  @Column('timestamptz', { name: 'due_at' })
  dueAt: Date;

  @Column('bigint', { name: 'alert_id', nullable: true })
  alertId: string | null;

  @Column('timestamptz', { name: 'written_at' })
  writtenAt: Date;
}
