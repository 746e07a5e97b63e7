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
@Index('client_name_idx', ['name', 'id'])
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  sector: ClientSector;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
