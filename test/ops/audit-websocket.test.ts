import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { TestApp, startTestApp } from '../support/app';
import { openSocket } from '../support/ws';

/** A mutation sent over the WebSocket is audited like one over HTTP: the token's subject, the operation, the input. */
describe('audit of mutations over WebSocket', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('records the actor, operation and input of a mutation sent over graphql-ws', async () => {
    const token = await app.token('admin', { sub: 'ws-admin' });
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<any>((resolve, reject) => {
        let received: unknown;
        client.subscribe(
          {
            query:
              'mutation CreateOverWs($input: CreateClientInput!) { createClient(input: $input) { client { id name } userErrors { message } } }',
            operationName: 'CreateOverWs',
            variables: { input: { name: 'Over the socket', sector: 'HEALTH' } },
          },
          { next: (value) => (received = value), error: reject, complete: () => resolve(received) },
        );
      });
      expect(result.data.createClient.userErrors).toEqual([]);
      const rows = await app.database.db.query(
        `SELECT actor_subject, actor_role, operation, input, table_name, action FROM audit_event WHERE table_name = 'client' AND action = 'INSERT' ORDER BY id DESC LIMIT 1`,
      );
      expect(rows).toEqual([
        expect.objectContaining({
          actor_subject: 'ws-admin',
          actor_role: 'admin',
          operation: 'CreateOverWs',
          input: [
            { field: 'createClient', arguments: { input: { name: 'Over the socket', sector: 'HEALTH' } } },
          ],
        }),
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('a mutation sent without operationName is audited with the name its document gives it', async () => {
    const socket = await openSocket(app.url, await app.token('admin', { sub: 'ws-admin-unnamed' }));
    try {
      const result = await socket.run(
        'mutation NamedInTheDocument { createClient(input: { name: "Named by its document", sector: OTHER }) { client { id } userErrors { message } } }',
      );
      expect(result.data.createClient.userErrors).toEqual([]);
      const rows = await app.database.db.query(
        `SELECT operation FROM audit_event WHERE actor_subject = 'ws-admin-unnamed' AND table_name = 'client' AND action = 'INSERT'`,
      );
      expect(rows).toEqual([{ operation: 'NamedInTheDocument' }]);
    } finally {
      await socket.dispose();
    }
  });
});
