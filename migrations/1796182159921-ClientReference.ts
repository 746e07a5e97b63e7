import { MigrationInterface, QueryRunner } from "typeorm";

export class ClientReference1796182159921 implements MigrationInterface {
    name = 'ClientReference1796182159921'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "client" ADD "reference" text`);
        // Existing clients: a readable code from the name plus the start of the (random) id, e.g.
        // COLCHESTER-CITY-COUNCIL-3F9A1C; the rare rows that still collide take the whole id, which is unique.
        // The audit trigger records the backfill under this operation's name.
        await queryRunner.query(`SELECT set_config('app.audit', '{"operation":"migration ClientReference: backfill"}', true)`);
        await queryRunner.query(`
            UPDATE "client" SET "reference" = concat_ws('-',
                nullif(left(trim(both '-' from upper(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), 60), ''),
                upper(substr(replace(id::text, '-', ''), 1, 6)))`);
        await queryRunner.query(`
            UPDATE "client" c SET "reference" = concat_ws('-',
                nullif(left(trim(both '-' from upper(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), 60), ''),
                upper(replace(id::text, '-', '')))
             WHERE EXISTS (SELECT 1 FROM "client" o WHERE o."reference" = c."reference" AND o.id <> c.id)`);
        await queryRunner.query(`SELECT set_config('app.audit', '', true)`);
        // For rows written without a reference by plain SQL (a column default, not a trigger: a bulk load under
        // session_replication_role = replica skips triggers but never defaults). Random, so it counts nothing.
        await queryRunner.query(`CREATE FUNCTION new_client_reference() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'CLIENT-' || upper(substr(md5(gen_random_uuid()::text), 1, 12)) $$`);
        await queryRunner.query(`ALTER TABLE "client" ALTER COLUMN "reference" SET DEFAULT new_client_reference()`);
        await queryRunner.query(`ALTER TABLE "client" ALTER COLUMN "reference" SET NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "client_reference_key" ON "client"  ("reference") `);
        await queryRunner.query(`ALTER TABLE "client" ADD CONSTRAINT "client_reference_format" CHECK (length(reference) BETWEEN 1 AND 100 AND reference = btrim(reference) AND reference !~ '[[:cntrl:]]')`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "client" DROP CONSTRAINT "client_reference_format"`);
        await queryRunner.query(`DROP INDEX "public"."client_reference_key"`);
        await queryRunner.query(`ALTER TABLE "client" DROP COLUMN "reference"`);
        await queryRunner.query(`DROP FUNCTION new_client_reference()`);
    }

}
