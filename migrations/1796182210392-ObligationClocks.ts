import { MigrationInterface, QueryRunner } from "typeorm";
import { refreshObligationClocks } from "../src/modules/obligation/obligation.clock";

export class ObligationClocks1796182210392 implements MigrationInterface {
    name = 'ObligationClocks1796182210392'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "obligation_reminder" ("id" BIGSERIAL NOT NULL, "exposure_id" uuid NOT NULL, "regime" text NOT NULL, "milestone" text NOT NULL, "kind" text NOT NULL, "remind_at" TIMESTAMP WITH TIME ZONE NOT NULL, "due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "alert_id" bigint, "written_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "obligation_reminder_key" UNIQUE ("exposure_id", "regime", "milestone", "kind", "remind_at"), CONSTRAINT "obligation_reminder_kind_valid" CHECK (kind IN ('DUE_SOON', 'OVERDUE')), CONSTRAINT "PK_4f6227eda374e1ccf260a644012" PRIMARY KEY ("id"))`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD "next_due_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD "next_reminder_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD "regime" text`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD "milestone" text`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD "due_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE INDEX "exposure_next_reminder_idx" ON "exposure"  ("next_reminder_at") WHERE resolved_at IS NULL AND next_reminder_at IS NOT NULL`);
        await queryRunner.query(`CREATE INDEX "exposure_open_next_due_idx" ON "exposure"  ("next_due_at") WHERE resolved_at IS NULL AND next_due_at IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "obligation_reminder" ADD CONSTRAINT "FK_e02cdb189a989f584e9996618d7" FOREIGN KEY ("exposure_id") REFERENCES "exposure"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        // Reminders are records, like alerts' causes: append-only (roles.ts finds the guard).
        await queryRunner.query(`CREATE TRIGGER obligation_reminder_append_only BEFORE UPDATE OR DELETE ON "obligation_reminder" FOR EACH ROW EXECUTE FUNCTION reject_change_to_append_only()`);
        await queryRunner.query(`CREATE TRIGGER obligation_reminder_no_truncate BEFORE TRUNCATE ON "obligation_reminder" FOR EACH STATEMENT EXECUTE FUNCTION reject_change_to_append_only()`);
        // Every stored exposure's clocks, by the same regime code that keeps them current from now on
        // (obligation.clock.ts), in batches so a large register does not hold everything in memory.
        for (;;) {
            const rows: { id: string }[] = await queryRunner.query(
                `SELECT id FROM exposure WHERE next_reminder_at IS NULL AND next_due_at IS NULL AND id > coalesce($1::uuid, '00000000-0000-0000-0000-000000000000') ORDER BY id LIMIT 1000`,
                [this.lastId],
            );
            if (rows.length === 0) break;
            await refreshObligationClocks(queryRunner.manager, rows.map((r) => r.id), new Date());
            this.lastId = rows[rows.length - 1].id;
        }
    }

    private lastId: string | null = null;

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "obligation_reminder" DROP CONSTRAINT "FK_e02cdb189a989f584e9996618d7"`);
        await queryRunner.query(`DROP INDEX "public"."exposure_open_next_due_idx"`);
        await queryRunner.query(`DROP INDEX "public"."exposure_next_reminder_idx"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP COLUMN "due_at"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP COLUMN "milestone"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP COLUMN "regime"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "next_reminder_at"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "next_due_at"`);
        await queryRunner.query(`DROP TABLE "obligation_reminder"`);
    }

}
