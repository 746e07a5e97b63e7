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
@Check(
  'client_reference_format',
  `length(reference) BETWEEN 1 AND 100 AND reference = btrim(reference) AND reference !~ '[[:cntrl:]]'`,
)
@Index('client_name_idx', ['name', 'id'])
// Not partial: a removed client is deleted, not archived, so its reference is free again at once.
@Index('client_reference_key', ['reference'], { unique: true })
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  sector: ClientSector;

  /**
   * The client's own code (an ONS/ODS code, a ledger code): how spreadsheets refer to it. Unique. The
   * default (random, so it reveals no count of other clients) is for rows written without one by plain
   * SQL (the benchmark seed, tests); the API makes a readable one from the name (client.service.ts).
   */
  @Column('text', { default: () => 'new_client_reference()' })
  reference: string;

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
