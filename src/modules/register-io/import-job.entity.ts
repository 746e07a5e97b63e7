import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** A large file's import, run after POST /imports answered 202 { jobId }; importJob(id) reads it. */
@Entity('import_job')
@Check('import_job_status_valid', `status IN ('RUNNING', 'SUCCEEDED', 'REFUSED', 'FAILED')`)
@Check('import_job_mode_valid', `mode IN ('merge', 'replace')`)
@Index('import_job_created_idx', ['createdAt'])
export class ImportJobEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  status: string;

  @Column('text', { name: 'file_name' })
  fileName: string;

  @Column('boolean', { name: 'dry_run' })
  dryRun: boolean;

  @Column('text')
  mode: string;

  /** Rows in the file, once read. */
  @Column('integer', { name: 'rows_total', nullable: true })
  rowsTotal: number | null;

  @Column('integer', { name: 'rows_done', default: 0 })
  rowsDone: number;

  /** The import's answer (the same JSON as POST /imports), once finished. */
  @Column('jsonb', { nullable: true })
  report: unknown;

  /** Why a FAILED job failed (a fault, not a problem of the file). */
  @Column('text', { nullable: true })
  error: string | null;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Bumped while the job runs: a RUNNING job not heard of for long has lost its instance. */
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt: Date | null;
}
