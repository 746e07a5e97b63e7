import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { sqlValues } from '../../common/enums';
import { ExposureEntity } from '../exposure/exposure.entity';

export enum AlertKind {
  NEW = 'NEW',
  CHANGED = 'CHANGED',
  RESOLVED = 'RESOLVED',
}

/**
 * Transactional outbox: one row per exposure that appears, changes or resolves, written by the
 * exposure engine in the same transaction. The ordered id is the subscribers' replay cursor.
 */
@Entity('exposure_alert')
@Check('exposure_alert_kind_valid', `kind IN (${sqlValues(Object.values(AlertKind))})`)
@Index('exposure_alert_client_idx', ['clientId', 'id'])
export class ExposureAlertEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

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
}
