import { MigrationInterface, QueryRunner } from "typeorm";

export class OpenExposureIndexes1795641802815 implements MigrationInterface {
    name = 'OpenExposureIndexes1795641802815'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."exposure_incident_score_idx"`);
        await queryRunner.query(`DROP INDEX "public"."exposure_client_score_idx"`);
        await queryRunner.query(`CREATE INDEX "exposure_client_idx" ON "exposure"  ("client_id") `);
        await queryRunner.query(`CREATE INDEX "exposure_incident_open_score_idx" ON "exposure"  ("incident_id", "score", "id") WHERE resolved_at IS NULL`);
        await queryRunner.query(`CREATE INDEX "exposure_client_open_score_idx" ON "exposure"  ("client_id", "score", "id") WHERE resolved_at IS NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."exposure_client_open_score_idx"`);
        await queryRunner.query(`DROP INDEX "public"."exposure_incident_open_score_idx"`);
        await queryRunner.query(`DROP INDEX "public"."exposure_client_idx"`);
        await queryRunner.query(`CREATE INDEX "exposure_client_score_idx" ON "exposure" ("client_id", "score", "id") `);
        await queryRunner.query(`CREATE INDEX "exposure_incident_score_idx" ON "exposure" ("incident_id", "score", "id") `);
    }

}
