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
import { ServiceCriticality, sqlValues } from '../../common/enums';
import { ClientEntity } from '../client/client.entity';
import { SupplierEntity } from '../supplier/supplier.entity';

@Entity('contract')
// Partial: a reference is unique among the client's contracts in the register; a removed (archived)
// contract's reference may be used again.
@Index('contract_client_reference_key', ['clientId', 'reference'], {
  unique: true,
  where: 'removed_at IS NULL',
})
@Check('contract_reference_not_blank', `length(btrim(reference)) BETWEEN 1 AND 100`)
@Check('contract_title_not_blank', `length(btrim(title)) BETWEEN 1 AND 300`)
@Check('contract_dates_ordered', `ends_on IS NULL OR ends_on >= starts_on`)
@Check('contract_value_complete', `(value_amount IS NULL) = (value_currency IS NULL)`)
@Check('contract_value_not_negative', `value_amount >= 0`)
@Check('contract_currency_format', `value_currency ~ '^[A-Z]{3}$'`)
@Check('contract_criticality_valid', `criticality IN (${sqlValues(Object.values(ServiceCriticality))})`)
@Index('contract_supplier_idx', ['supplierId', 'reference', 'id'], { where: 'removed_at IS NULL' })
@Index('contract_client_idx', ['clientId', 'reference', 'id'], { where: 'removed_at IS NULL' })
export class ContractEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'client_id' })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'client_id' })
  client?: ClientEntity;

  @Column('uuid', { name: 'supplier_id' })
  supplierId: string;

  @ManyToOne(() => SupplierEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'supplier_id' })
  supplier?: SupplierEntity;

  @Column('text')
  reference: string;

  @Column('text')
  title: string;

  /** numeric comes back from pg as a string: exact, never a float. */
  @Column('numeric', { name: 'value_amount', precision: 18, scale: 2, nullable: true })
  valueAmount: string | null;

  @Column('text', { name: 'value_currency', nullable: true })
  valueCurrency: string | null;

  /** Whole UTC days as 'YYYY-MM-DD' strings. */
  @Column('date', { name: 'starts_on' })
  startsOn: string;

  @Column('date', { name: 'ends_on', nullable: true })
  endsOn: string | null;

  @Column('text')
  criticality: ServiceCriticality;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Rule 10: removing a contract archives it (and its agreements, with the same instant); exposures still show it. */
  @Column('timestamptz', { name: 'removed_at', nullable: true })
  removedAt: Date | null;
}
