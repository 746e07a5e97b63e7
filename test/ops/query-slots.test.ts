import { Client as PgClient } from 'pg';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { createSupplier } from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';

/**
 * MAX_CONCURRENT_QUERIES bounds the queries executing at once (src/security/query-slots.ts). With one
 * slot, a query held up in PostgreSQL (the test locks the supplier table on its own connection) makes the
 * next query wait in line, visibly (graphql_queued_queries), while a mutation goes straight through.
 */
describe('query slots', () => {
  let app: TestApp;
  let locker: PgClient;

  beforeAll(async () => {
    app = await startTestApp({ MAX_CONCURRENT_QUERIES: '1' });
    await createSupplier(app.services, { name: 'Locked out' });
    locker = new PgClient({ connectionString: app.database.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await app.stop();
  });

  const queuedQueries = async () =>
    Number(/^graphql_queued_queries (\d+)$/m.exec(await (await fetch(app.server.metricsUrl!)).text())?.[1]);
  const until = async (condition: () => Promise<boolean>, what: string) => {
    const started = Date.now();
    while (!(await condition())) {
      if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('holds the second query back until the first is done, and lets a mutation through meanwhile', async () => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE supplier IN ACCESS EXCLUSIVE MODE');
    const first = app.gql(app.adminToken, '{ suppliers(first: 5) { edges { node { name } } } }');
    await until(
      async () =>
        (
          await locker.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'supplier'::regclass AND NOT granted`,
          )
        ).rows[0].n > 0,
      'the first query to wait for the lock',
    );

    let secondDone = false;
    const second = app
      .gql(app.adminToken, '{ clients(first: 5) { totalCount } }')
      .finally(() => (secondDone = true));
    await until(async () => (await queuedQueries()) === 1, 'the second query to queue');

    const mutation = await app.gql(
      app.adminToken,
      'mutation { createClient(input: { name: "Arrives meanwhile", sector: HEALTH }) { client { name } userErrors { message } } }',
    );
    expect(dataOf(mutation).createClient).toEqual({ client: { name: 'Arrives meanwhile' }, userErrors: [] });
    expect(secondDone).toBe(false);

    await locker.query('COMMIT');
    expect(dataOf(await first).suppliers.edges).toEqual([{ node: { name: 'Locked out' } }]);
    expect(dataOf(await second).clients.totalCount).toBe(1);
    expect(await queuedQueries()).toBe(0);
  });

  it('gives the slot back when a query fails, so the next one runs', async () => {
    // A cursor that does not decode fails inside the resolver, while the query holds its slot.
    const refused = await app.gql(app.adminToken, '{ suppliers(after: "not a cursor") { totalCount } }');
    expect(refused.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.body.errors?.[0].path).toEqual(['suppliers']);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app.gql(app.adminToken, '{ suppliers(first: 1) { totalCount } }')),
    );
    expect(results.map((result) => dataOf(result).suppliers.totalCount)).toEqual([1, 1, 1, 1, 1]);
    expect(await queuedQueries()).toBe(0);
  });

  it('makes simulateIncident (a mutation that is a read in effect) wait for a slot like a query', async () => {
    const supplier = await createSupplier(app.services, { name: 'Simulated' });
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE client IN ACCESS EXCLUSIVE MODE');
    const first = app.gql(app.adminToken, '{ clients(first: 5) { totalCount } }');
    await until(
      async () =>
        (
          await locker.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'client'::regclass AND NOT granted`,
          )
        ).rows[0].n > 0,
      'the first query to wait for the lock',
    );
    const simulated = app.gql(
      app.adminToken,
      `mutation($input: SimulateIncidentInput!) { simulateIncident(input: $input) { clientsExposed } }`,
      {
        input: {
          supplierId: encodeGlobalId('Supplier', supplier.id),
          title: 'What if',
          kind: 'CYBER_ATTACK',
          status: 'SUSPECTED',
          detectedAt: '2024-03-01T00:00:00Z',
          exfiltration: 'SUSPECTED',
        },
      },
    );
    await until(async () => (await queuedQueries()) === 1, 'the simulation to queue');
    await locker.query('COMMIT');
    expect(dataOf(await first).clients.totalCount).toBeGreaterThanOrEqual(0);
    expect(dataOf(await simulated).simulateIncident).toEqual({ clientsExposed: 0 });
    expect(await queuedQueries()).toBe(0);
  });
});
