import { Client, Notification } from 'pg';
import { createServices } from '../../src/services';
import { ALERT_CHANNEL } from '../../src/modules/alert/alert.notify';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

/**
 * The engine announces its alerts itself: services built with nothing but a DataSource (as a script, a
 * seed or another instance builds them) NOTIFY the alert hubs, once per write that changed exposures, and
 * only when that write commits.
 */
describe('the exposure engine NOTIFYs the alerts it writes', () => {
  let database: TestDatabase;
  let listener: Client;
  const heard: Notification[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    listener = new Client({ connectionString: database.url });
    await listener.connect();
    listener.on('notification', (notification) => heard.push(notification));
    await listener.query(`LISTEN ${ALERT_CHANNEL}`);
  });
  afterAll(async () => {
    await listener.end();
    await database.drop();
  });

  const newest = async (): Promise<string> =>
    (await database.db.query(`SELECT max(id)::text AS id FROM exposure_alert`))[0].id;
  const heardSoon = async (count: number) => {
    for (let i = 0; i < 50 && heard.length < count; i += 1) await new Promise((r) => setTimeout(r, 20));
    return heard.map((notification) => notification.payload);
  };

  it('announces an incident’s new exposures and a register change’s, with the newest alert id', async () => {
    const services = createServices(database.db);
    const supplier = await createSupplier(services);
    const subprocessor = await createSupplier(services);
    const client = await createClient(services);
    await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([]);

    const recorded = await recordIncident(services, subprocessor.id);
    expect(recorded.exposuresChanged).toBe(0);
    // Nothing changed, so nothing to announce; the link then exposes the client through the chain.
    await linkSubprocessor(services, supplier.id, subprocessor.id);
    expect(await heardSoon(1)).toEqual([await newest()]);

    await recordIncident(services, supplier.id);
    expect(await heardSoon(2)).toEqual([expect.any(String), await newest()]);
    expect(heard.map((n) => n.channel)).toEqual([ALERT_CHANNEL, ALERT_CHANNEL]);
  });

  it('says nothing for a write that rolls back', async () => {
    const services = createServices(database.db);
    const supplier = await createSupplier(services);
    const client = await createClient(services);
    await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);
    const before = heard.length;
    await expect(
      database.db.transaction(async (manager) => {
        const recorded = await recordIncident(services.within(manager), supplier.id);
        expect(recorded.exposuresChanged).toBe(1);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.length).toBe(before);
    expect(
      await database.db.query(`SELECT count(*)::int AS n FROM exposure WHERE client_id = $1`, [client.id]),
    ).toEqual([{ n: 0 }]);
  });
});
