import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { parse } from 'yaml';
import { createDataSource } from '../../ormconfig';
import { loadConfig } from '../../src/config';
import { describeConnectedRole, grantApiRole } from '../../src/db/roles';
import { migrationClasses } from '../support/database';

/**
 * Docker cannot run on CI machines, so the deployment files are checked as text: the compose file
 * wires the services the way the operating contract says, every variable it gives the api is one
 * the app reads, and the image runs the built entry point with a health check.
 */
const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Compose variable interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      whole,
      name: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (whole === '$$') return '$';
      const key = (name ?? bare)!;
      const current = env[key];
      const unset = current === undefined || (op?.startsWith(':') && current === '');
      if (!op) return current ?? '';
      if (op.endsWith('-')) return unset ? (arg ?? '') : current!;
      if (unset) throw new Error(`required variable ${key} is missing: ${arg}`);
      return current!;
    },
  );
}

/** `environment:` as a map, whether written as a map or as a list of NAME=value. */
function environmentOf(service: any): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function healthcheckText(service: any): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : String(test ?? '');
}

/** Variable names src/config.ts reads from its `source` (the environment). */
function configVariables(): Set<string> {
  const text = read('src/config.ts');
  return new Set([...text.matchAll(/\bsource\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
}

interface Instruction {
  stage: number;
  keyword: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped, tagged by build stage. */
function dockerfile(): Instruction[] {
  const lines = read('Dockerfile').split('\n');
  const joined: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (!current && (/^\s*#/.test(line) || !line.trim())) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    joined.push((current + line).trim());
    current = '';
  }
  let stage = -1;
  return joined.map((line) => {
    const [, keyword, args] = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    return { stage, keyword: keyword.toUpperCase(), args };
  });
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));
  const { postgres, api } = compose.services;

  it('has the postgres and api services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres']);
  });

  it('runs PostgreSQL 16 or newer on a named volume, with a pg_isready health check', () => {
    const [, tag] = /^postgres:(\d+)/.exec(postgres.image) ?? [];
    expect(Number(tag)).toBeGreaterThanOrEqual(16);
    expect(postgres.environment.POSTGRES_PASSWORD).toBeTruthy();
    const volumes: string[] = postgres.volumes;
    const named = volumes
      .map((v) => v.split(':')[0])
      .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
    expect(named.length).toBe(1);
    expect(Object.keys(compose.volumes ?? {})).toContain(named[0]);
    expect(volumes.find((v) => v.startsWith(`${named[0]}:`))).toMatch(/:\/var\/lib\/postgresql(\/data)?$/);
    expect(healthcheckText(postgres)).toMatch(/pg_isready/);
    expect(healthcheckText(postgres)).toContain(`-U ${postgres.environment.POSTGRES_USER}`);
  });

  it('builds the api from this repository, publishes 4000, waits for a healthy database and checks /readyz', () => {
    expect(api.build === '.' || api.build?.context === '.').toBe(true);
    expect(api.ports.map(String)).toContain('4000:4000');
    expect(api.depends_on.postgres.condition).toBe('service_healthy');
    expect(healthcheckText(api)).toMatch(/\/readyz/);
    expect(healthcheckText(api)).toContain(':4000/');
  });

  it('sets only environment variables src/config.ts reads', () => {
    const known = configVariables();
    // Guards the guard: the scan must see what config.ts really reads.
    for (const name of ['DATABASE_URL', 'JWT_SECRET', 'PORT', 'NODE_ENV']) expect(known).toContain(name);
    const unknown = Object.keys(environmentOf(api)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('requires JWT_SECRET from the caller and gives the app a configuration it accepts', () => {
    const raw = environmentOf(api);
    expect(raw.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
    expect(() => interpolate(raw.JWT_SECRET, {})).toThrow(/JWT_SECRET/);

    const env = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, interpolate(v, { JWT_SECRET: 'x'.repeat(40) })]),
    );
    const config = loadConfig(env);
    expect(config).toMatchObject({
      env: 'production',
      port: 4000,
      jwtSecret: 'x'.repeat(40),
      graphiql: false,
    });

    // The api reaches the database by its service name, as its own role; its migrations as the owner.
    const pgEnv = Object.fromEntries(
      Object.entries(environmentOf(postgres)).map(([k, v]) => [k, interpolate(v, {})]),
    );
    const apiDb = new URL(config.databaseUrl!);
    const owner = new URL(config.migrationDatabaseUrl!);
    for (const db of [apiDb, owner]) {
      expect(db.hostname).toBe('postgres');
      expect(db.port || '5432').toBe('5432');
      expect(db.pathname).toBe(`/${pgEnv.POSTGRES_DB}`);
    }
    expect([decodeURIComponent(apiDb.username), decodeURIComponent(apiDb.password)]).toEqual([
      'register_api',
      pgEnv.REGISTER_API_PASSWORD,
    ]);
    expect([decodeURIComponent(owner.username), decodeURIComponent(owner.password)]).toEqual([
      'register_owner',
      pgEnv.REGISTER_OWNER_PASSWORD,
    ]);
    expect(pgEnv.POSTGRES_USER).not.toBe('register_api');
  });

  it('creates both roles with the init script, which the postgres image runs on an empty volume', () => {
    const mount = (postgres.volumes as string[]).find((v) => v.includes('/docker-entrypoint-initdb.d/'));
    expect(mount).toBeDefined();
    const [source, target] = mount!.split(':');
    expect(source).toBe('./deploy/postgres-init-roles.sh');
    expect(target).toMatch(/^\/docker-entrypoint-initdb\.d\/[\w-]+\.sh$/);
    expect(fs.statSync(path.join(ROOT, source)).mode & 0o111).not.toBe(0);
  });
});

/**
 * The init script, run as the postgres image would (psql as the superuser), against the suite's own
 * server: its roles then carry the whole compose setup, migrations as the owner and the api as a role
 * that owns nothing. Role names are per run here (roles are cluster-wide; compose uses the defaults).
 */
describe('deploy/postgres-init-roles.sh', () => {
  const psql = spawnSync('psql', ['--version']);
  const run = psql.status === 0 ? it : it.skip;

  run(
    'creates an owner that owns the database and an api role that owns nothing, and the api starts on them',
    async () => {
      const server = new URL(process.env.TEST_SERVER_URL!);
      const suffix = randomBytes(4).toString('hex');
      const database = `register_compose_${suffix}`;
      const ownerRole = `register_owner_${suffix}`;
      const apiRole = `register_api_${suffix}`;
      const superuser = new Client({ connectionString: server.toString() });
      await superuser.connect();
      await superuser.query(`CREATE DATABASE ${database}`);
      try {
        const result = spawnSync('bash', [path.join(ROOT, 'deploy/postgres-init-roles.sh')], {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            PGHOST: server.hostname,
            PGPORT: server.port || '5432',
            PGPASSWORD: decodeURIComponent(server.password),
            POSTGRES_USER: decodeURIComponent(server.username),
            POSTGRES_DB: database,
            REGISTER_OWNER_ROLE: ownerRole,
            REGISTER_OWNER_PASSWORD: 'owner-secret',
            REGISTER_API_ROLE: apiRole,
            REGISTER_API_PASSWORD: 'api-secret',
          },
        });
        expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });

        const urlAs = (user: string, password: string) =>
          Object.assign(new URL(server.toString()), {
            username: user,
            password,
            pathname: `/${database}`,
          }).toString();
        const owner = createDataSource(urlAs(ownerRole, 'owner-secret'));
        owner.setOptions({ migrations: migrationClasses() });
        await owner.initialize();
        try {
          await owner.runMigrations({ transaction: 'all' });
          await grantApiRole(owner, apiRole);
        } finally {
          await owner.destroy();
        }
        const api = createDataSource(urlAs(apiRole, 'api-secret'));
        await api.initialize();
        try {
          expect(await describeConnectedRole(api)).toEqual({
            role: apiRole,
            superuser: false,
            ownedTables: [],
          });
          await api.query(`INSERT INTO client (name, sector) VALUES ('Compose Council', 'OTHER')`);
          await expect(api.query(`DELETE FROM audit_event`)).rejects.toThrow(
            'permission denied for table audit_event',
          );
        } finally {
          await api.destroy();
        }
        const [{ owner: databaseOwner }] = (
          await superuser.query(
            `SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`,
            [database],
          )
        ).rows;
        expect(databaseOwner).toBe(ownerRole);
      } finally {
        await superuser.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await superuser.query(`DROP ROLE IF EXISTS ${ownerRole}`);
        await superuser.query(`DROP ROLE IF EXISTS ${apiRole}`);
        await superuser.end();
      }
    },
  );
});

describe('Dockerfile', () => {
  const instructions = dockerfile();
  const lastStage = Math.max(...instructions.map((i) => i.stage));
  const final = instructions.filter((i) => i.stage === lastStage);
  const build = instructions.filter((i) => i.stage < lastStage);

  it('builds in one stage and runs in another, on a Node LTS image', () => {
    const args = Object.fromEntries(
      instructions
        .filter((i) => i.keyword === 'ARG')
        .map((i) => i.args.split('='))
        .map(([k, v]) => [k.trim(), v?.trim()]),
    );
    const images = instructions
      .filter((i) => i.keyword === 'FROM')
      .map((i) => i.args.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_m, name) => args[name]));
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) {
      const [, major] = /^node:(\d+)/.exec(image) ?? [];
      expect(Number(major) % 2).toBe(0); // even majors become LTS
      expect(Number(major)).toBeGreaterThanOrEqual(22);
    }
  });

  it('installs exactly the lockfile, builds, and ships without dev dependencies', () => {
    const runs = build
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build\b/);
    expect(runs).toMatch(/npm prune --omit=dev|npm ci [^&]*--omit=dev/);
  });

  it('copies into the build what the server needs, and leaves out of the context only what it does not', () => {
    const sources = build
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    for (const source of sources) expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
    // dist/src/main.js needs src and ../ormconfig; the migrations are loaded from dist/migrations.
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'ormconfig.ts',
      'src',
      'migrations',
    ])
      expect(sources).toContain(entry);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const source of sources) expect(ignored).not.toContain(source);
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', 'dist', '.git']));
    // Whatever else tsconfig.build.json compiles (tooling such as bench/) is left out on purpose, not by oversight.
    const compiled: string[] = JSON.parse(read('tsconfig.build.json')).include;
    const leftOut = compiled.filter((entry) => !sources.includes(entry) && !ignored.includes(entry));
    expect(leftOut).toEqual([]);
  });

  it('runs dist/src/main.js as a non-root user, with a HEALTHCHECK on /healthz', () => {
    const cmd = final.filter((i) => i.keyword === 'CMD').pop();
    expect(cmd).toBeDefined();
    expect(JSON.parse(cmd!.args)).toEqual(['node', 'dist/src/main.js']);
    // The same entry point `npm start` runs after its build.
    expect(JSON.parse(read('package.json')).scripts.start).toContain('node dist/src/main.js');
    const user = final.filter((i) => i.keyword === 'USER').pop();
    expect(user?.args).toBeDefined();
    expect(['root', '0']).not.toContain(user!.args.split(':')[0]);
    const health = final.find((i) => i.keyword === 'HEALTHCHECK');
    expect(health?.args).toMatch(/CMD .*\/healthz/);
  });
});
