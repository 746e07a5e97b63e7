import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Endpoint changes (create, update, pause and re-enable, rotation, replay, removal, and the worker disabling
 * one) go into the audit trail like the register's own rows, with two differences from
 * audit_register_change(): the signing secrets never enter it (a rotation shows as "secret_rotated": true),
 * and the worker's delivery bookkeeping (cursor moves, leases, failure counts, updated_at) is not a change
 * to the endpoint, so an update touching only those columns writes no audit row. Also the index the daily
 * pruning of delivery attempts past WEBHOOK_DELIVERY_RETENTION reads.
 */
export class WebhookAuditAndRetention1796170000000 implements MigrationInterface {
  name = 'WebhookAuditAndRetention1796170000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "webhook_delivery_attempted_idx" ON "webhook_delivery" ("attempted_at") `,
    );
    await queryRunner.query(`
      CREATE FUNCTION audit_webhook_endpoint_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        actor jsonb := coalesce(nullif(current_setting('app.audit', true), '')::jsonb, '{}'::jsonb);
        row_value jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
      BEGIN
        row_value := row_value - 'secret' - 'previous_secret' - 'lease_token' - 'lease_until' - 'failed_attempts'
                     - 'failing_since' - 'next_attempt_at' - 'updated_at';
        IF TG_OP = 'UPDATE' THEN
          row_value := row_value || jsonb_build_object('secret_rotated', OLD.secret IS DISTINCT FROM NEW.secret);
        END IF;
        INSERT INTO audit_event (actor_subject, actor_role, actor_client_id, operation, input, request_id, table_name, record_id, action, row_data)
        VALUES (coalesce(actor->>'subject', 'system'), coalesce(actor->>'role', 'system'), (actor->>'clientId')::uuid,
                coalesce(actor->>'operation', 'direct database write'), actor->'input', actor->>'requestId',
                TG_TABLE_NAME, row_value->>'id', TG_OP, row_value);
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER webhook_endpoint_audit AFTER INSERT OR DELETE ON "webhook_endpoint" FOR EACH ROW EXECUTE FUNCTION audit_webhook_endpoint_change()`,
    );
    await queryRunner.query(`
      CREATE TRIGGER webhook_endpoint_audit_update AFTER UPDATE ON "webhook_endpoint" FOR EACH ROW
      WHEN (OLD.url IS DISTINCT FROM NEW.url OR OLD.client_id IS DISTINCT FROM NEW.client_id
            OR OLD.kinds IS DISTINCT FROM NEW.kinds OR OLD.description IS DISTINCT FROM NEW.description
            OR OLD.enabled IS DISTINCT FROM NEW.enabled OR OLD.secret IS DISTINCT FROM NEW.secret
            OR OLD.generation IS DISTINCT FROM NEW.generation)
      EXECUTE FUNCTION audit_webhook_endpoint_change()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER webhook_endpoint_audit_update ON "webhook_endpoint"`);
    await queryRunner.query(`DROP TRIGGER webhook_endpoint_audit ON "webhook_endpoint"`);
    await queryRunner.query(`DROP FUNCTION audit_webhook_endpoint_change()`);
    await queryRunner.query(`DROP INDEX "public"."webhook_delivery_attempted_idx"`);
  }
}
