import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClientSector } from '../../src/common/enums';
import { TestDatabase, createTestDatabase } from '../support/database';
import { createServices } from '../../src/services';
import { createClient } from '../support/factories';
import { workbook } from './support';

const run = promisify(execFile);

/** npm run import -- FILE [--dry-run] [--replace]: the script itself, as a process, on a test database. */
describe('the import command', () => {
  let database: TestDatabase;
  let folder: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    await createClient(createServices(database.db), {
      name: 'A',
      reference: 'A',
      sector: ClientSector.HEALTH,
    });
    folder = await mkdtemp(path.join(tmpdir(), 'register-import-'));
  });
  afterAll(async () => {
    await database.drop();
    await rm(folder, { recursive: true, force: true });
  });

  async function importCommand(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'src/scripts/import.ts', ...args],
        { env: { ...process.env, DATABASE_URL: database.url }, timeout: 60_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('dry run, real run, problems: the report on stdout, exit 0 or 1', async () => {
    const file = path.join(folder, 'suppliers.xlsx');
    await writeFile(
      file,
      await workbook({
        suppliers: [
          ['name', 'country', 'tier'],
          ['Acme Ltd', 'GB', 'STANDARD'],
        ],
      }),
    );
    const dry = await importCommand(file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, applied: false, problems: [] });
    expect(dry.stderr).toContain('Valid (dry run, nothing written)');
    expect(await database.db.query(`SELECT 1 FROM supplier`)).toEqual([]);

    const real = await importCommand(file);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout).counts.suppliers.created).toBe(1);
    const [audit] = await database.db.query(
      `SELECT operation, actor_subject, input->>'fileName' AS file FROM audit_event WHERE table_name = 'supplier'`,
    );
    expect(audit).toMatchObject({ operation: 'importRegister', file: 'suppliers.xlsx' });
    expect(audit.actor_subject).toMatch(/^cli:/);

    const csvFolder = path.join(folder, 'csv');
    await run('mkdir', [csvFolder]);
    await writeFile(path.join(csvFolder, 'clients.csv'), 'reference,name,sector\nB,B,NOT_A_SECTOR\n');
    const bad = await importCommand(csvFolder);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual([
      expect.objectContaining({ sheet: 'clients', row: 2, column: 'sector', value: 'NOT_A_SECTOR' }),
    ]);
    expect(bad.stderr).toContain('1 problem(s): nothing was written.');
  });
});
