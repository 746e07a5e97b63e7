import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { DataCategory, sqlValues } from '../../common/enums';
import { ContractEntity } from '../contract/contract.entity';
import { SupplierEntity } from '../supplier/supplier.entity';

@Entity('data_processing_agreement')
// Partial: a removed (archived) agreement's reference may be used again.
@Index('dpa_contract_reference_key', ['contractId', 'reference'], {
  unique: true,
  where: 'removed_at IS NULL',
})
@Check('dpa_reference_not_blank', `length(btrim(reference)) BETWEEN 1 AND 100`)
@Check('dpa_categories_valid', `data_categories <@ ARRAY[${sqlValues(Object.values(DataCategory))}]::text[]`)
@Check('dpa_subject_count_not_negative', `data_subject_count >= 0`)
@Check('dpa_locations_format', `array_to_string(processing_locations, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$'`)
@Index('dpa_contract_idx', ['contractId'])
export class AgreementEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'contract_id' })
  contractId: string;

  @ManyToOne(() => ContractEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'contract_id' })
  contract?: ContractEntity;

  @Column('text')
  reference: string;

  @Column('text', { name: 'data_categories', array: true })
  dataCategories: DataCategory[];

  @Column('integer', { name: 'data_subject_count' })
  dataSubjectCount: number;

  @Column('text', { name: 'processing_locations', array: true })
  processingLocations: string[];

  @Column('date', { name: 'data_retained_until', nullable: true })
  dataRetainedUntil: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Rule 10: removing an agreement archives it; it no longer counts in exposures computed after. */
  @Column('timestamptz', { name: 'removed_at', nullable: true })
  removedAt: Date | null;
}

/** Agreement-level sub-processor: authorised for this agreement's data only. */
@Entity('agreement_subprocessor')
@Index('agreement_subprocessor_subprocessor_idx', ['subprocessorId'])
export class AgreementSubprocessorEntity {
  @PrimaryColumn('uuid', { name: 'agreement_id' })
  agreementId: string;

  @PrimaryColumn('uuid', { name: 'subprocessor_id' })
  subprocessorId: string;

  @ManyToOne(() => AgreementEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agreement_id' })
  agreement?: AgreementEntity;

  @ManyToOne(() => SupplierEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'subprocessor_id' })
  subprocessor?: SupplierEntity;
}
