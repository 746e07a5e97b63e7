import { MigrationInterface, QueryRunner } from "typeorm";

export class RegulatoryClocks1796160835362 implements MigrationInterface {
    name = 'RegulatoryClocks1796160835362'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "client_notice" ("id" BIGSERIAL NOT NULL, "incident_id" uuid NOT NULL, "client_id" uuid NOT NULL, "notice_at" TIMESTAMP WITH TIME ZONE NOT NULL, "channel" text, "note" text, "reason" text, "recorded_by_subject" text NOT NULL, "recorded_by_role" text NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_8215798751c04a94d91ba0adaf7" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "client_notice_incident_client_idx" ON "client_notice"  ("incident_id", "client_id", "id") `);
        await queryRunner.query(`CREATE TABLE "obligation_trigger" ("id" BIGSERIAL NOT NULL, "exposure_id" uuid NOT NULL, "regime" text NOT NULL, "triggered_at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" text NOT NULL, "recorded_by_subject" text NOT NULL, "recorded_by_role" text NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "obligation_trigger_regime_valid" CHECK (regime IN ('UK_GDPR', 'EU_GDPR', 'UK_NIS', 'NIS2', 'DORA', 'PECR')), CONSTRAINT "PK_c91493741142112ed3c74a38f1d" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "obligation_trigger_exposure_idx" ON "obligation_trigger"  ("exposure_id", "regime") `);
        await queryRunner.query(`ALTER TABLE "client" ADD "country" text NOT NULL DEFAULT 'GB'`);
        await queryRunner.query(`ALTER TABLE "client" ADD "regimes" text array`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD "data_aware_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure" ADD "review_needed_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD "data_aware_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD "note" text`);
        await queryRunner.query(`ALTER TABLE "notification_decision" ADD "regime" text NOT NULL DEFAULT 'UK_GDPR'`);
        await queryRunner.query(`ALTER TABLE "notification_decision" ADD "milestone" text NOT NULL DEFAULT 'NOTIFICATION'`);
        await queryRunner.query(`ALTER TABLE "notification_decision" ADD "facts" text`);
        await queryRunner.query(`ALTER TABLE "notification_decision" ADD "effects" text`);
        await queryRunner.query(`ALTER TABLE "notification_decision" ADD "remedial_action" text`);
        await queryRunner.query(`CREATE INDEX "notification_decision_obligation_idx" ON "notification_decision"  ("exposure_id", "regime", "milestone", "decided_at") `);
        await queryRunner.query(`ALTER TABLE "client" ADD CONSTRAINT "client_country_valid" CHECK (country ~ '^[A-Z]{2}$')`);
        await queryRunner.query(`ALTER TABLE "client_notice" ADD CONSTRAINT "FK_e8fff76df2b033bf6945564e948" FOREIGN KEY ("incident_id") REFERENCES "incident"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "client_notice" ADD CONSTRAINT "FK_b62cea2fa4dfb548757afbce137" FOREIGN KEY ("client_id") REFERENCES "client"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "obligation_trigger" ADD CONSTRAINT "FK_5d9cde8ea202019e1179e1d4b0c" FOREIGN KEY ("exposure_id") REFERENCES "exposure"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        // Notices and triggers are records: append-only, like decisions and revisions (roles.ts finds the guard).
        for (const table of ['client_notice', 'obligation_trigger']) {
            await queryRunner.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION reject_change_to_append_only()`);
            await queryRunner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION reject_change_to_append_only()`);
        }
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP CONSTRAINT "exposure_revision_reason_valid"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD CONSTRAINT "exposure_revision_reason_valid" CHECK (reason IN ('INCIDENT_RECORDED', 'INCIDENT_UPDATED', 'REOPENED', 'REGISTER_CHANGED', 'CONTRACT_STARTED', 'AWARENESS_CORRECTED', 'CLIENT_NOTIFIED'))`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP CONSTRAINT "exposure_alert_kind_valid"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD CONSTRAINT "exposure_alert_kind_valid" CHECK (kind IN ('NEW', 'CHANGED', 'RESOLVED', 'REVIEW_NEEDED', 'DUE_SOON', 'OVERDUE'))`);
        // Rule 5: an exposure stored with data at risk was known to involve personal data from its awareness
        // (the earliest moment the register can vouch for): never later than the stored awareAt, so no
        // deadline moves later. Revisions keep what they said (null: not kept then).
        await queryRunner.query(`UPDATE "exposure" SET "data_aware_at" = "aware_at" WHERE cardinality("data_categories_at_risk") > 0`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "exposure_alert" DROP CONSTRAINT "exposure_alert_kind_valid"`);
        await queryRunner.query(`ALTER TABLE "exposure_alert" ADD CONSTRAINT "exposure_alert_kind_valid" CHECK (kind IN ('NEW', 'CHANGED', 'RESOLVED'))`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP CONSTRAINT "exposure_revision_reason_valid"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD CONSTRAINT "exposure_revision_reason_valid" CHECK (reason IN ('INCIDENT_RECORDED', 'INCIDENT_UPDATED', 'REOPENED', 'REGISTER_CHANGED', 'CONTRACT_STARTED'))`);
        await queryRunner.query(`ALTER TABLE "obligation_trigger" DROP CONSTRAINT "FK_5d9cde8ea202019e1179e1d4b0c"`);
        await queryRunner.query(`ALTER TABLE "client_notice" DROP CONSTRAINT "FK_b62cea2fa4dfb548757afbce137"`);
        await queryRunner.query(`ALTER TABLE "client_notice" DROP CONSTRAINT "FK_e8fff76df2b033bf6945564e948"`);
        await queryRunner.query(`ALTER TABLE "client" DROP CONSTRAINT "client_country_valid"`);
        await queryRunner.query(`DROP INDEX "public"."notification_decision_obligation_idx"`);
        await queryRunner.query(`ALTER TABLE "notification_decision" DROP COLUMN "remedial_action"`);
        await queryRunner.query(`ALTER TABLE "notification_decision" DROP COLUMN "effects"`);
        await queryRunner.query(`ALTER TABLE "notification_decision" DROP COLUMN "facts"`);
        await queryRunner.query(`ALTER TABLE "notification_decision" DROP COLUMN "milestone"`);
        await queryRunner.query(`ALTER TABLE "notification_decision" DROP COLUMN "regime"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP COLUMN "note"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP COLUMN "data_aware_at"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "review_needed_at"`);
        await queryRunner.query(`ALTER TABLE "exposure" DROP COLUMN "data_aware_at"`);
        await queryRunner.query(`ALTER TABLE "client" DROP COLUMN "regimes"`);
        await queryRunner.query(`ALTER TABLE "client" DROP COLUMN "country"`);
        await queryRunner.query(`DROP INDEX "public"."obligation_trigger_exposure_idx"`);
        await queryRunner.query(`DROP TABLE "obligation_trigger"`);
        await queryRunner.query(`DROP INDEX "public"."client_notice_incident_client_idx"`);
        await queryRunner.query(`DROP TABLE "client_notice"`);
    }

}
