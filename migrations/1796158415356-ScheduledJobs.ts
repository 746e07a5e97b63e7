import { MigrationInterface, QueryRunner } from "typeorm";

export class ScheduledJobs1796158415356 implements MigrationInterface {
    name = 'ScheduledJobs1796158415356'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "scheduled_job" ("name" text NOT NULL, "last_run_on" date NOT NULL, "last_run_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_e9fa2da896f3bb1da2821312e47" PRIMARY KEY ("name"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "scheduled_job"`);
    }

}
