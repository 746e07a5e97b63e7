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
import { SupplierTier, sqlValues } from '../../common/enums';

export const LEI_PATTERN = '^[A-Z0-9]{18}[0-9]{2}$';
export const COMPANY_NUMBER_PATTERN = '^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$';
export const COUNTRY_PATTERN = '^[A-Z]{2}$';

@Entity('supplier')
@Check('supplier_name_not_blank', `length(btrim(name)) BETWEEN 1 AND 200`)
@Check('supplier_lei_format', `lei ~ '${LEI_PATTERN}'`)
@Check('supplier_company_number_format', `company_number ~ '${COMPANY_NUMBER_PATTERN}'`)
@Check('supplier_country_format', `country ~ '${COUNTRY_PATTERN}'`)
@Check('supplier_tier_valid', `tier IN (${sqlValues(Object.values(SupplierTier))})`)
// Partial: lists and uniqueness are about the suppliers in the register; a removed (archived) supplier's
// LEI or company number may be taken by a new one.
@Index('supplier_name_idx', ['name', 'id'], { where: 'removed_at IS NULL' })
@Index('supplier_lei_key', ['lei'], { unique: true, where: 'lei IS NOT NULL AND removed_at IS NULL' })
@Index('supplier_company_number_key', ['companyNumber'], {
  unique: true,
  where: 'company_number IS NOT NULL AND removed_at IS NULL',
})
export class SupplierEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'company_number', nullable: true })
  companyNumber: string | null;

  @Column('text', { nullable: true })
  lei: string | null;

  @Column('text')
  country: string;

  @Column('text')
  tier: SupplierTier;

  @Column('boolean', { default: false })
  strategic: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Rule 10: removing a supplier archives it; the records that refer to it (exposure paths) still show it. */
  @Column('timestamptz', { name: 'removed_at', nullable: true })
  removedAt: Date | null;
}

/** Supplier-level sub-processor link: the supplier relies on the sub-processor for all the data it holds. */
@Entity('supplier_subprocessor')
@Check('supplier_subprocessor_not_self', `supplier_id <> subprocessor_id`)
@Index('supplier_subprocessor_subprocessor_idx', ['subprocessorId'])
export class SupplierSubprocessorEntity {
  @PrimaryColumn('uuid', { name: 'supplier_id' })
  supplierId: string;

  @PrimaryColumn('uuid', { name: 'subprocessor_id' })
  subprocessorId: string;

  @ManyToOne(() => SupplierEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'supplier_id' })
  supplier?: SupplierEntity;

  @ManyToOne(() => SupplierEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'subprocessor_id' })
  subprocessor?: SupplierEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
