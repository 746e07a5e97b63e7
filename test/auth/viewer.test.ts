import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import { createClient } from '../support/factories';

/** Query.viewer: who the token says I am, for each role; no token is refused like any other query. */
describe('viewer', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const VIEWER = '{ viewer { subject role client { id name } } }';

  it('answers subject, role and client for each role', async () => {
    expect(dataOf(await app.gql(app.adminToken, VIEWER)).viewer).toEqual({
      subject: 'test-admin',
      role: 'admin',
      client: null,
    });
    expect(dataOf(await app.gql(app.analystToken, VIEWER)).viewer).toEqual({
      subject: 'test-analyst',
      role: 'analyst',
      client: null,
    });
    const client = await createClient(app.services, { name: 'Borough of Testing' });
    expect(dataOf(await app.gql(await app.clientToken(client.id), VIEWER)).viewer).toEqual({
      subject: `client-user-${client.id.slice(0, 8)}`,
      role: 'client',
      client: { id: encodeGlobalId('Client', client.id), name: 'Borough of Testing' },
    });
  });

  it('needs a token', async () => {
    const response = await app.gql(null, VIEWER);
    expect(response.status).toBe(401);
  });
});
