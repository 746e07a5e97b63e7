import { MigrationInterface, QueryRunner } from "typeorm";

export class ExposureInputChange1796198536229 implements MigrationInterface {
    name = 'ExposureInputChange1796198536229'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "exposure_input_change" ("client_id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, CONSTRAINT "PK_9c8bfb3e27d247143c24623d5f0" PRIMARY KEY ("client_id"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "exposure_input_change"`);
    }

}
