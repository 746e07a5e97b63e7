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
import {
  DataCategory,
  ExfiltrationStatus,
  IncidentKind,
  IncidentStatus,
  sqlValues,
} from '../../common/enums';
import { SupplierEntity } from '../supplier/supplier.entity';

@Entity('incident')
@Check('incident_title_not_blank', `length(btrim(title)) BETWEEN 1 AND 300`)
@Check('incident_kind_valid', `kind IN (${sqlValues(Object.values(IncidentKind))})`)
@Check('incident_status_valid', `status IN (${sqlValues(Object.values(IncidentStatus))})`)
@Check('incident_exfiltration_valid', `exfiltration IN (${sqlValues(Object.values(ExfiltrationStatus))})`)
@Check(
  'incident_categories_valid',
  `data_categories_affected <@ ARRAY[${sqlValues(Object.values(DataCategory))}]::text[]`,
)
@Check('incident_started_before_detected', `started_at IS NULL OR started_at <= detected_at`)
@Check(
  'incident_contained_after_start',
  `contained_at IS NULL OR contained_at >= COALESCE(started_at, detected_at)`,
)
@Check('incident_share_of_data_affected_range', `share_of_data_affected > 0 AND share_of_data_affected <= 1`)
@Index('incident_supplier_detected_idx', ['supplierId', 'detectedAt', 'id'])
@Index('incident_detected_idx', ['detectedAt', 'id'])
export class IncidentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'supplier_id' })
  supplierId: string;

  @ManyToOne(() => SupplierEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'supplier_id' })
  supplier?: SupplierEntity;

  @Column('text')
  title: string;

  @Column('text')
  kind: IncidentKind;

  @Column('text')
  status: IncidentStatus;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column('timestamptz', { name: 'detected_at' })
  detectedAt: Date;

  @Column('timestamptz', { name: 'contained_at', nullable: true })
  containedAt: Date | null;

  @Column('timestamptz', { name: 'clients_notified_at', nullable: true })
  clientsNotifiedAt: Date | null;

  /** null: not yet known, every category is treated as at risk. */
  @Column('text', { name: 'data_categories_affected', array: true, nullable: true })
  dataCategoriesAffected: DataCategory[] | null;

  @Column('text')
  exfiltration: ExfiltrationStatus;

  /**
   * The share of the supplier's data the incident reached (0 < share <= 1, 4 decimal places), when known:
   * it scales the people-at-risk range. null: not known, taken as all of it. numeric, so the scaling is exact.
   */
  @Column('numeric', { name: 'share_of_data_affected', precision: 5, scale: 4, nullable: true })
  shareOfDataAffected: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
