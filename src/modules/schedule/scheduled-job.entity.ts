import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per daily job: the last UTC day it ran for. An instance that wants to run a job locks its row
 * (FOR UPDATE SKIP LOCKED): with several instances one runs a given day's work and the others skip, and
 * the day is recorded in the same transaction as the work, so nothing is lost across restarts.
 */
@Entity('scheduled_job')
export class ScheduledJobEntity {
  @PrimaryColumn('text')
  name: string;

  @Column('date', { name: 'last_run_on' })
  lastRunOn: string;

  @Column('timestamptz', { name: 'last_run_at', nullable: true })
  lastRunAt: Date | null;
}
