import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ClientSector, sqlValues } from '../../common/enums';

@Entity('client')
@Check('client_name_not_blank', `length(btrim(name)) BETWEEN 1 AND 200`)
@Check('client_sector_valid', `sector IN (${sqlValues(Object.values(ClientSector))})`)
@Check('client_country_valid', `country ~ '^[A-Z]{2}$'`)
@Index('client_name_idx', ['name', 'id'])
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  sector: ClientSector;

  /** ISO 3166-1 alpha-2 country of establishment; rows before it was kept were backfilled GB. */
  @Column('text', { default: 'GB' })
  country: string;

  /** The regimes set explicitly; null: the defaults from sector and country (obligation/regimes.ts). */
  @Column('text', { array: true, nullable: true })
  regimes: string[] | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
