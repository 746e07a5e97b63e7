import { MigrationInterface, QueryRunner } from "typeorm";

export class AuditTrail1795638533067 implements MigrationInterface {
    name = 'AuditTrail1795638533067'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "audit_event" ("id" BIGSERIAL NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT statement_timestamp(), "actor_subject" text NOT NULL, "actor_role" text NOT NULL, "actor_client_id" uuid, "operation" text NOT NULL, "input" jsonb, "request_id" text, "table_name" text NOT NULL, "record_id" text NOT NULL, "action" text NOT NULL, "row_data" jsonb NOT NULL, "transaction_id" bigint NOT NULL DEFAULT txid_current(), CONSTRAINT "PK_481efbe8b0a403efe3f47a6528f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "audit_event_time_idx" ON "audit_event"  ("occurred_at", "id") `);
        await queryRunner.query(`CREATE INDEX "audit_event_actor_idx" ON "audit_event"  ("actor_subject", "id") `);
        await queryRunner.query(`CREATE INDEX "audit_event_record_idx" ON "audit_event"  ("table_name", "record_id", "id") `);

        // Who changed what: one audit row per written register row, stamped with the actor the API set on
        // the transaction (set_config('app.audit', ..., true)); writes made outside the API are 'system'.
        await queryRunner.query(`
            CREATE FUNCTION audit_register_change() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                actor jsonb := coalesce(nullif(current_setting('app.audit', true), '')::jsonb, '{}'::jsonb);
                row_value jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
            BEGIN
                INSERT INTO audit_event (actor_subject, actor_role, actor_client_id, operation, input, request_id, table_name, record_id, action, row_data)
                VALUES (coalesce(actor->>'subject', 'system'), coalesce(actor->>'role', 'system'), (actor->>'clientId')::uuid,
                        coalesce(actor->>'operation', 'direct database write'), actor->'input', actor->>'requestId',
                        TG_TABLE_NAME,
                        coalesce(row_value->>'id', concat_ws('/', row_value->>'supplier_id', row_value->>'agreement_id', row_value->>'subprocessor_id')),
                        TG_OP, row_value);
                RETURN NULL;
            END $$`);
        for (const table of ['supplier', 'supplier_subprocessor', 'client', 'contract', 'data_processing_agreement', 'agreement_subprocessor', 'incident', 'notification_decision']) {
            await queryRunner.query(`CREATE TRIGGER ${table}_audit AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION audit_register_change()`);
        }
        // Records that must never change once written: the audit trail, exposure history, alerts, decisions.
        await queryRunner.query(`
            CREATE FUNCTION reject_change_to_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$`);
        for (const table of ['audit_event', 'exposure_revision', 'exposure_alert', 'notification_decision']) {
            await queryRunner.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION reject_change_to_append_only()`);
            await queryRunner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION reject_change_to_append_only()`);
        }
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        for (const table of ['audit_event', 'exposure_revision', 'exposure_alert', 'notification_decision']) {
            await queryRunner.query(`DROP TRIGGER ${table}_append_only ON "${table}"`);
            await queryRunner.query(`DROP TRIGGER ${table}_no_truncate ON "${table}"`);
        }
        await queryRunner.query(`DROP FUNCTION reject_change_to_append_only()`);
        for (const table of ['supplier', 'supplier_subprocessor', 'client', 'contract', 'data_processing_agreement', 'agreement_subprocessor', 'incident', 'notification_decision']) {
            await queryRunner.query(`DROP TRIGGER ${table}_audit ON "${table}"`);
        }
        await queryRunner.query(`DROP FUNCTION audit_register_change()`);
        await queryRunner.query(`DROP INDEX "public"."audit_event_record_idx"`);
        await queryRunner.query(`DROP INDEX "public"."audit_event_actor_idx"`);
        await queryRunner.query(`DROP INDEX "public"."audit_event_time_idx"`);
        await queryRunner.query(`DROP TABLE "audit_event"`);
    }

}
