import { ClientSector } from '../../src/common/enums';
import { TestApp, dataOf, startTestApp } from '../support/app';

/** Client.reference: unique, optional on input (made from the name when omitted), filled by default for plain SQL. */
describe('Client.reference', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const create = (input: Record<string, unknown>) =>
    app.gql(
      app.adminToken,
      `mutation ($input: CreateClientInput!) { createClient(input: $input) { client { id name reference } userErrors { field code message } } }`,
      { input },
    );

  it('is made from the name when omitted, and kept as given otherwise', async () => {
    const made = dataOf(
      await create({ name: 'Colchester City Council', sector: ClientSector.LOCAL_GOVERNMENT }),
    );
    expect(made.createClient.userErrors).toEqual([]);
    expect(made.createClient.client.reference).toMatch(/^COLCHESTER-CITY-COUNCIL-[0-9A-F]{6}$/);
    const given = dataOf(
      await create({ name: 'Rochford', sector: ClientSector.LOCAL_GOVERNMENT, reference: 'E07000075' }),
    );
    expect(given.createClient.client.reference).toBe('E07000075');
  });

  it('refuses a reference another client has, and a blank-edged one, writing nothing', async () => {
    const before = await app.database.db.query(`SELECT count(*)::int AS n FROM client`);
    const taken = dataOf(await create({ name: 'Other', sector: ClientSector.OTHER, reference: 'E07000075' }));
    expect(taken.createClient.client).toBeNull();
    expect(taken.createClient.userErrors).toEqual([
      { field: ['input', 'reference'], code: 'CONFLICT', message: 'Another client has this reference' },
    ]);
    const blank = dataOf(await create({ name: 'Other', sector: ClientSector.OTHER, reference: ' X' }));
    expect(blank.createClient.userErrors[0]).toMatchObject({
      field: ['input', 'reference'],
      code: 'INVALID',
    });
    expect(await app.database.db.query(`SELECT count(*)::int AS n FROM client`)).toEqual(before);
  });

  it('can be changed by updateClient', async () => {
    const made = dataOf(await create({ name: 'Harrow', sector: ClientSector.LOCAL_GOVERNMENT }));
    const updated = dataOf(
      await app.gql(
        app.adminToken,
        `mutation ($input: UpdateClientInput!) { updateClient(input: $input) { client { reference } userErrors { code } } }`,
        { input: { id: made.createClient.client.id, reference: 'E09000015' } },
      ),
    );
    expect(updated.updateClient.client.reference).toBe('E09000015');
  });

  it('gets a random default when plain SQL inserts a client without one (the benchmark seed, scripts)', async () => {
    const [row] = await app.database.db.query(
      `INSERT INTO client (name, sector) VALUES ('By SQL', 'OTHER') RETURNING reference`,
    );
    expect(row.reference).toMatch(/^CLIENT-[0-9A-F]{12}$/);
  });
});
