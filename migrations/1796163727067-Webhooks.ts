import { MigrationInterface, QueryRunner } from "typeorm";

export class Webhooks1796163727067 implements MigrationInterface {
    name = 'Webhooks1796163727067'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "webhook_endpoint" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "url" text NOT NULL, "client_id" uuid, "kinds" text array NOT NULL, "description" text, "enabled" boolean NOT NULL DEFAULT true, "disabled_reason" text, "disabled_at" TIMESTAMP WITH TIME ZONE, "secret" text NOT NULL, "previous_secret" text, "previous_secret_until" TIMESTAMP WITH TIME ZONE, "cursor" bigint NOT NULL DEFAULT '0', "generation" integer NOT NULL DEFAULT '0', "failed_attempts" integer NOT NULL DEFAULT '0', "failing_since" TIMESTAMP WITH TIME ZONE, "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "lease_token" uuid, "lease_until" TIMESTAMP WITH TIME ZONE, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "webhook_endpoint_url_length" CHECK (length(url) BETWEEN 1 AND 2000), CONSTRAINT "webhook_endpoint_kinds_not_empty" CHECK (cardinality(kinds) > 0), CONSTRAINT "webhook_endpoint_kinds_valid" CHECK (kinds <@ ARRAY['NEW', 'CHANGED', 'RESOLVED', 'REVIEW_NEEDED', 'DUE_SOON', 'OVERDUE']::text[]), CONSTRAINT "PK_6c98112122b2b8a4f3984d2efa8" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_endpoint_due_idx" ON "webhook_endpoint"  ("next_attempt_at") WHERE enabled`);
        await queryRunner.query(`CREATE INDEX "webhook_endpoint_created_idx" ON "webhook_endpoint"  ("created_at", "id") `);
        await queryRunner.query(`CREATE INDEX "webhook_endpoint_client_idx" ON "webhook_endpoint"  ("client_id", "created_at", "id") `);
        await queryRunner.query(`CREATE TABLE "webhook_delivery" ("id" BIGSERIAL NOT NULL, "endpoint_id" uuid NOT NULL, "alert_id" bigint NOT NULL, "webhook_id" text NOT NULL, "attempt" integer NOT NULL, "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL, "duration_ms" integer NOT NULL, "status_code" integer, "outcome" text NOT NULL, "error" text, "response_excerpt" text, "worker" text NOT NULL, CONSTRAINT "webhook_delivery_outcome_valid" CHECK (outcome IN ('SUCCESS', 'HTTP_ERROR', 'TIMEOUT', 'NETWORK_ERROR', 'REFUSED_TARGET')), CONSTRAINT "PK_b1ae290239a778f12399db91354" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_delivery_endpoint_idx" ON "webhook_delivery"  ("endpoint_id", "id") `);
        await queryRunner.query(`ALTER TABLE "webhook_endpoint" ADD CONSTRAINT "webhook_endpoint_client_fk" FOREIGN KEY ("client_id") REFERENCES "client"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "webhook_delivery" ADD CONSTRAINT "FK_f53f5aec02217a54927b13e39d9" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoint"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "webhook_delivery" DROP CONSTRAINT "FK_f53f5aec02217a54927b13e39d9"`);
        await queryRunner.query(`ALTER TABLE "webhook_endpoint" DROP CONSTRAINT "webhook_endpoint_client_fk"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_delivery_endpoint_idx"`);
        await queryRunner.query(`DROP TABLE "webhook_delivery"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_endpoint_client_idx"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_endpoint_created_idx"`);
        await queryRunner.query(`DROP INDEX "public"."webhook_endpoint_due_idx"`);
        await queryRunner.query(`DROP TABLE "webhook_endpoint"`);
    }

}
