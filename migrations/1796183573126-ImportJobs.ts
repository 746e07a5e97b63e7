import { MigrationInterface, QueryRunner } from "typeorm";

export class ImportJobs1796183573126 implements MigrationInterface {
    name = 'ImportJobs1796183573126'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "import_job" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "status" text NOT NULL, "file_name" text NOT NULL, "dry_run" boolean NOT NULL, "mode" text NOT NULL, "rows_total" integer, "rows_done" integer NOT NULL DEFAULT '0', "report" jsonb, "error" text, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "import_job_mode_valid" CHECK (mode IN ('merge', 'replace')), CONSTRAINT "import_job_status_valid" CHECK (status IN ('RUNNING', 'SUCCEEDED', 'REFUSED', 'FAILED')), CONSTRAINT "PK_65b4c7eccb8120972a7b8da7682" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "import_job_created_idx" ON "import_job"  ("created_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."import_job_created_idx"`);
        await queryRunner.query(`DROP TABLE "import_job"`);
    }

}
