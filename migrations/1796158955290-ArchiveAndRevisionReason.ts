import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Issue 11, rules 10 and 11: removing a supplier, contract or agreement archives it (removed_at) instead of
 * deleting it, so records that refer to it still show it; uniqueness and the list indexes cover the rows in
 * the register only (partial on removed_at IS NULL: TypeORM does not compare index predicates, so those are
 * recreated here by hand). Exposure revisions say why they were written (reason; null on older revisions).
 */
export class ArchiveAndRevisionReason1796158955290 implements MigrationInterface {
    name = 'ArchiveAndRevisionReason1796158955290'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "contract" DROP CONSTRAINT "contract_client_reference_key"`);
        await queryRunner.query(`ALTER TABLE "data_processing_agreement" DROP CONSTRAINT "dpa_contract_reference_key"`);
        await queryRunner.query(`ALTER TABLE "supplier" ADD "removed_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "contract" ADD "removed_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "data_processing_agreement" ADD "removed_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD "reason" text`);
        await queryRunner.query(`CREATE UNIQUE INDEX "contract_client_reference_key" ON "contract"  ("client_id", "reference") WHERE removed_at IS NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "dpa_contract_reference_key" ON "data_processing_agreement"  ("contract_id", "reference") WHERE removed_at IS NULL`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" ADD CONSTRAINT "exposure_revision_reason_valid" CHECK (reason IN ('INCIDENT_RECORDED', 'INCIDENT_UPDATED', 'REOPENED', 'REGISTER_CHANGED', 'CONTRACT_STARTED'))`);
        await queryRunner.query(`DROP INDEX "public"."supplier_name_idx"`);
        await queryRunner.query(`DROP INDEX "public"."supplier_lei_key"`);
        await queryRunner.query(`DROP INDEX "public"."supplier_company_number_key"`);
        await queryRunner.query(`DROP INDEX "public"."contract_supplier_idx"`);
        await queryRunner.query(`DROP INDEX "public"."contract_client_idx"`);
        await queryRunner.query(`CREATE INDEX "supplier_name_idx" ON "supplier"  ("name", "id") WHERE removed_at IS NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "supplier_lei_key" ON "supplier"  ("lei") WHERE lei IS NOT NULL AND removed_at IS NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "supplier_company_number_key" ON "supplier"  ("company_number") WHERE company_number IS NOT NULL AND removed_at IS NULL`);
        await queryRunner.query(`CREATE INDEX "contract_supplier_idx" ON "contract"  ("supplier_id", "reference", "id") WHERE removed_at IS NULL`);
        await queryRunner.query(`CREATE INDEX "contract_client_idx" ON "contract"  ("client_id", "reference", "id") WHERE removed_at IS NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."contract_client_idx"`);
        await queryRunner.query(`DROP INDEX "public"."contract_supplier_idx"`);
        await queryRunner.query(`DROP INDEX "public"."supplier_company_number_key"`);
        await queryRunner.query(`DROP INDEX "public"."supplier_lei_key"`);
        await queryRunner.query(`DROP INDEX "public"."supplier_name_idx"`);
        await queryRunner.query(`CREATE INDEX "contract_client_idx" ON "contract"  ("client_id", "reference", "id") `);
        await queryRunner.query(`CREATE INDEX "contract_supplier_idx" ON "contract"  ("supplier_id", "reference", "id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "supplier_company_number_key" ON "supplier"  ("company_number") WHERE company_number IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "supplier_lei_key" ON "supplier"  ("lei") WHERE lei IS NOT NULL`);
        await queryRunner.query(`CREATE INDEX "supplier_name_idx" ON "supplier"  ("name", "id") `);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP CONSTRAINT "exposure_revision_reason_valid"`);
        await queryRunner.query(`DROP INDEX "public"."dpa_contract_reference_key"`);
        await queryRunner.query(`DROP INDEX "public"."contract_client_reference_key"`);
        await queryRunner.query(`ALTER TABLE "exposure_revision" DROP COLUMN "reason"`);
        await queryRunner.query(`ALTER TABLE "data_processing_agreement" DROP COLUMN "removed_at"`);
        await queryRunner.query(`ALTER TABLE "contract" DROP COLUMN "removed_at"`);
        await queryRunner.query(`ALTER TABLE "supplier" DROP COLUMN "removed_at"`);
        await queryRunner.query(`ALTER TABLE "data_processing_agreement" ADD CONSTRAINT "dpa_contract_reference_key" UNIQUE ("contract_id", "reference")`);
        await queryRunner.query(`ALTER TABLE "contract" ADD CONSTRAINT "contract_client_reference_key" UNIQUE ("client_id", "reference")`);
    }

}
