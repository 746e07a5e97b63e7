import { MigrationInterface, QueryRunner } from "typeorm";

export class ExposureLastChange1795640056506 implements MigrationInterface {
    name = 'ExposureLastChange1795640056506'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure" ADD "last_change" text NOT NULL DEFAULT 'NEW'`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD CONSTRAINT "exposure_last_change_valid" CHECK (last_change IN ('NEW', 'CHANGED', 'RESOLVED'))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure" DROP CONSTRAINT "exposure_last_change_valid"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "last_change"`);
    }

}
