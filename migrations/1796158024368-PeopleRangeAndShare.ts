import { MigrationInterface, QueryRunner } from "typeorm";

export class PeopleRangeAndShare1796158024368 implements MigrationInterface {
    name = 'PeopleRangeAndShare1796158024368'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "incident" ADD "share_of_data_affected" numeric(5,4)`);
        // Exposures written before the range existed stated one figure, the sum: it becomes both bounds until the
        // next recomputation. Revisions are append-only; the owner lifts that for this one backfill only.
        for (const table of ['exposure', 'exposure_revision']) {
            await queryRunner.query(`ALTER TABLE "${table}" ADD "data_subjects_at_risk_low" bigint`);
            await queryRunner.query(`ALTER TABLE "${table}" ADD "data_subjects_at_risk_high" bigint`);
        }
        await queryRunner.query(`UPDATE "exposure" SET data_subjects_at_risk_low = data_subjects_at_risk, data_subjects_at_risk_high = data_subjects_at_risk`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DISABLE TRIGGER exposure_revision_append_only`);
        await queryRunner.query(`UPDATE "exposure_revision" SET data_subjects_at_risk_low = data_subjects_at_risk, data_subjects_at_risk_high = data_subjects_at_risk`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ENABLE TRIGGER exposure_revision_append_only`);
        for (const table of ['exposure', 'exposure_revision']) {
            await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "data_subjects_at_risk_low" SET NOT NULL`);
            await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "data_subjects_at_risk_high" SET NOT NULL`);
        }
        await queryRunner.query(`ALTER TABLE "incident" ADD CONSTRAINT "incident_share_of_data_affected_range" CHECK (share_of_data_affected > 0 AND share_of_data_affected <= 1)`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD CONSTRAINT "exposure_subjects_range_ordered" CHECK (0 <= data_subjects_at_risk_low AND data_subjects_at_risk_low <= data_subjects_at_risk_high)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure" DROP CONSTRAINT "exposure_subjects_range_ordered"`);
        await queryRunner.query(`ALTER TABLE "incident" DROP CONSTRAINT "incident_share_of_data_affected_range"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP COLUMN "data_subjects_at_risk_high"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP COLUMN "data_subjects_at_risk_low"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "data_subjects_at_risk_high"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "data_subjects_at_risk_low"`);
        await queryRunner.query(`ALTER TABLE "incident" DROP COLUMN "share_of_data_affected"`);
    }

}
