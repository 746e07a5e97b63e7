import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Per-client alert numbers (issue 10, finding 2): a client's cursor is its own 1, 2, 3, … so the gaps in
 * register-wide ids no longer tell it how many alerts other clients had. Existing alerts are numbered
 * in id order within each client, the order the engine assigns new numbers in.
 */
export class AlertClientSequence1796158515803 implements MigrationInterface {
    name = 'AlertClientSequence1796158515803'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD "client_seq" bigint`);
        // The table is append-only (AuditTrail): its UPDATE guard is lifted for the backfill only, inside
        // this migration's transaction, so no other write can slip through meanwhile.
        await queryRunner.query(`ALTER TABLE "exposure_alert" DISABLE TRIGGER "exposure_alert_append_only"`);
        await queryRunner.query(`
            UPDATE "exposure_alert" a SET "client_seq" = n.seq
            FROM (SELECT id, row_number() OVER (PARTITION BY client_id ORDER BY id) AS seq FROM "exposure_alert") n
            WHERE n.id = a.id`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ENABLE TRIGGER "exposure_alert_append_only"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ALTER COLUMN "client_seq" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD CONSTRAINT "exposure_alert_client_seq_key" UNIQUE ("client_id", "client_seq")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP CONSTRAINT "exposure_alert_client_seq_key"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP COLUMN "client_seq"`);
    }

}
