import { decodeGlobalId, encodeGlobalId } from '../../src/common/global-id';
import { TestApp, startTestApp } from '../support/app';
import { NotificationStatus } from '../../src/modules/exposure/exposure.entity';
import { RecordNotificationDecisionInput } from '../../src/modules/exposure/exposure.inputs';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient as createRegisterClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { RawResponse, errorCodes, postGraphQL, rowCount } from './support';
import { MUTATIONS, MutationName } from '../support/mutations';

/**
 * The audit trail through the real API: every mutation writes, in its own transaction, one audit row per
 * register row it changed, naming who (token subject, role, client), the operation and its input, which
 * record and when. The trail is readable by admins only and cannot be changed, even with direct SQL.
 */

interface AuditRow {
  id: string;
  occurred_at: Date;
  actor_subject: string;
  actor_role: string;
  actor_client_id: string | null;
  operation: string;
  input: any;
  request_id: string | null;
  table_name: string;
  record_id: string;
  action: string;
  row_data: any;
  transaction_id: string;
}

const AUDIT_FIELDS =
  'id occurredAt actorSubject actorRole actorClientId operation input requestId tableName recordId recordGlobalId action rowData';

describe('audit trail', () => {
  let app: TestApp;
  let requestCounter = 0;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const auditRows = async (requestId: string): Promise<AuditRow[]> =>
    app.database.db.query(
      `SELECT *, transaction_id::text AS transaction_id FROM audit_event WHERE request_id = $1 ORDER BY id`,
      [requestId],
    );

  /** Runs one mutation through HTTP with a named operation and a request id of our own; returns the payload. */
  async function mutate(token: string, name: MutationName, input: Record<string, unknown>) {
    const [inputType, selection] = MUTATIONS[name];
    const operationName = `Audit_${name}_${++requestCounter}`;
    const requestId = `audit-test-${requestCounter}`;
    const response = await postGraphQL(
      app.url,
      token,
      {
        query: `mutation ${operationName}($input: ${inputType}!) { result: ${name}(input: $input) { ${selection} userErrors { field code message } } }`,
        variables: { input },
        operationName,
      },
      { 'x-request-id': requestId },
    );
    expect(response.status).toBe(200);
    expect(response.json.errors).toBeUndefined();
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const result = response.json.data.result;
    expect({ name, userErrors: result.userErrors }).toEqual({ name, userErrors: [] });
    return { result, operationName, requestId };
  }

  const gid = (type: Parameters<typeof encodeGlobalId>[0], id: string) => encodeGlobalId(type, id);
  const dbId = (globalId: string) => decodeGlobalId(globalId)!.id;

  describe('every mutation writes audit rows in its own transaction', () => {
    /** (table, action) pairs each mutation must have recorded; every row carries the same actor, operation, input and transaction. */
    const seen = new Map<MutationName, { operationName: string; requestId: string; rows: AuditRow[] }>();

    async function audited(
      token: string,
      actor: { subject: string; role: string; clientId: string | null },
      name: MutationName,
      input: Record<string, unknown>,
      expected: [string, string][],
    ) {
      const startedAt = await dbNow();
      const outcome = await mutate(token, name, input);
      const finishedAt = await dbNow();
      const rows = await auditRows(outcome.requestId);
      const pairs = [...new Set(rows.map((r) => `${r.table_name} ${r.action}`))];
      expect({ name, pairs }).toEqual({
        name,
        pairs: expect.arrayContaining(expected.map(([t, a]) => `${t} ${a}`)),
      });
      for (const row of rows) {
        expect(row).toMatchObject({
          actor_subject: actor.subject,
          actor_role: actor.role,
          actor_client_id: actor.clientId,
          operation: outcome.operationName,
          request_id: outcome.requestId,
        });
        expect(row.input).toEqual([{ field: name, arguments: { input: expect.any(Object) } }]);
        expect(row.occurred_at.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
        expect(row.occurred_at.getTime()).toBeLessThanOrEqual(finishedAt.getTime());
        expect(row.record_id).toEqual(expect.stringMatching(/\S/));
      }
      // One transaction: the change and its audit rows commit or roll back together.
      expect(new Set(rows.map((r) => r.transaction_id)).size).toBe(1);
      seen.set(name, { operationName: outcome.operationName, requestId: outcome.requestId, rows });
      return { ...outcome, rows };
    }

    const dbNow = async (): Promise<Date> =>
      (await app.database.db.query(`SELECT clock_timestamp() AS now`))[0].now;

    /** The audited row version was written by the audit rows' transaction (xmin is the 32-bit form of txid_current()). */
    async function writtenInAuditTransaction(table: string, id: string, rows: AuditRow[]) {
      const [{ xmin }] = await app.database.db.query(
        `SELECT xmin::text AS xmin FROM "${table}" WHERE id = $1`,
        [id],
      );
      expect((BigInt(rows[0].transaction_id) % 2n ** 32n).toString()).toBe(xmin);
    }

    it('covers all 17 mutations with who, what, which record and when', async () => {
      const admin = { subject: 'test-admin', role: 'admin', clientId: null };
      const analyst = { subject: 'test-analyst', role: 'analyst', clientId: null };

      const s1 = await audited(
        app.adminToken,
        admin,
        'createSupplier',
        { name: 'Audited Supplier', country: 'GB', tier: 'CRITICAL', lei: '7LTWFZYICNSX8D621K86' },
        [['supplier', 'INSERT']],
      );
      const supplierId = s1.result.supplier.id;
      expect(s1.rows).toHaveLength(1);
      expect(s1.rows[0]).toMatchObject({
        table_name: 'supplier',
        record_id: dbId(supplierId),
        action: 'INSERT',
        row_data: expect.objectContaining({ name: 'Audited Supplier', tier: 'CRITICAL' }),
      });
      expect(s1.rows[0].input).toEqual([
        {
          field: 'createSupplier',
          arguments: {
            input: expect.objectContaining({
              name: 'Audited Supplier',
              country: 'GB',
              tier: 'CRITICAL',
              lei: '7LTWFZYICNSX8D621K86',
            }),
          },
        },
      ]);
      await writtenInAuditTransaction('supplier', dbId(supplierId), s1.rows);

      const sub = (
        await audited(
          app.adminToken,
          admin,
          'createSupplier',
          { name: 'Audited Subprocessor', country: 'IE', tier: 'STANDARD' },
          [['supplier', 'INSERT']],
        )
      ).result.supplier.id;
      const doomedSupplier = (
        await audited(
          app.adminToken,
          admin,
          'createSupplier',
          { name: 'Short-lived Supplier', country: 'GB', tier: 'STANDARD' },
          [['supplier', 'INSERT']],
        )
      ).result.supplier.id;
      const updated = await audited(
        app.adminToken,
        admin,
        'updateSupplier',
        { id: supplierId, name: 'Audited Supplier plc' },
        [['supplier', 'UPDATE']],
      );
      expect(updated.rows[0].row_data.name).toBe('Audited Supplier plc');
      await writtenInAuditTransaction('supplier', dbId(supplierId), updated.rows);
      await audited(app.adminToken, admin, 'addSubprocessor', { supplierId, subprocessorId: sub }, [
        ['supplier_subprocessor', 'INSERT'],
      ]);

      const clientId = (
        await audited(
          app.adminToken,
          admin,
          'createClient',
          { name: 'Audited Council', sector: 'LOCAL_GOVERNMENT' },
          [['client', 'INSERT']],
        )
      ).result.client.id;
      const doomedClient = (
        await audited(
          app.adminToken,
          admin,
          'createClient',
          { name: 'Short-lived Council', sector: 'HEALTH' },
          [['client', 'INSERT']],
        )
      ).result.client.id;
      await audited(app.adminToken, admin, 'updateClient', { id: clientId, sector: 'CENTRAL_GOVERNMENT' }, [
        ['client', 'UPDATE'],
      ]);

      const contractInput = {
        clientId,
        supplierId,
        reference: 'AUD-1',
        title: 'Payroll',
        startsOn: '2022-01-01',
        criticality: 'CRITICAL',
        value: { amount: '125000.00', currency: 'GBP' },
      };
      const contractId = (
        await audited(app.adminToken, admin, 'createContract', contractInput, [['contract', 'INSERT']])
      ).result.contract.id;
      const doomedContract = (
        await audited(app.adminToken, admin, 'createContract', { ...contractInput, reference: 'AUD-2' }, [
          ['contract', 'INSERT'],
        ])
      ).result.contract.id;
      await audited(app.adminToken, admin, 'updateContract', { id: contractId, title: 'Payroll and HR' }, [
        ['contract', 'UPDATE'],
      ]);

      const agreementInput = {
        contractId,
        reference: 'DPA-AUD-1',
        dataCategories: ['BASIC_IDENTITY', 'HEALTH'],
        dataSubjectCount: 5000,
        processingLocations: ['GB'],
        subprocessorIds: [sub],
      };
      const agreement = await audited(
        app.adminToken,
        admin,
        'createDataProcessingAgreement',
        agreementInput,
        [
          ['data_processing_agreement', 'INSERT'],
          ['agreement_subprocessor', 'INSERT'],
        ],
      );
      const agreementId = agreement.result.dataProcessingAgreement.id;
      expect(agreement.rows.find((r) => r.table_name === 'agreement_subprocessor')!.record_id).toBe(
        `${dbId(agreementId)}/${dbId(sub)}`,
      );
      const doomedAgreement = (
        await audited(
          app.adminToken,
          admin,
          'createDataProcessingAgreement',
          { ...agreementInput, contractId: doomedContract, reference: 'DPA-AUD-2', subprocessorIds: [] },
          [['data_processing_agreement', 'INSERT']],
        )
      ).result.dataProcessingAgreement.id;
      await audited(
        app.adminToken,
        admin,
        'updateDataProcessingAgreement',
        { id: agreementId, dataSubjectCount: 6000 },
        [['data_processing_agreement', 'UPDATE']],
      );

      const incident = await audited(
        app.analystToken,
        analyst,
        'recordIncident',
        {
          supplierId,
          title: 'Ransomware at Audited Supplier',
          kind: 'RANSOMWARE',
          status: 'CONFIRMED',
          detectedAt: '2024-03-01T09:00:00Z',
          exfiltration: 'SUSPECTED',
        },
        [['incident', 'INSERT']],
      );
      const incidentId = incident.result.incident.id;
      // The input is recorded as received.
      expect(incident.rows[0].input[0].arguments.input).toMatchObject({
        title: 'Ransomware at Audited Supplier',
        detectedAt: '2024-03-01T09:00:00Z',
      });
      // The exposures computed by the same mutation share its transaction.
      const [revision] = await app.database.db.query(
        `SELECT r.xmin::text AS xmin FROM exposure_revision r JOIN exposure e ON e.id = r.exposure_id WHERE e.incident_id = $1`,
        [dbId(incidentId)],
      );
      expect((BigInt(incident.rows[0].transaction_id) % 2n ** 32n).toString()).toBe(revision.xmin);
      await audited(
        app.analystToken,
        analyst,
        'updateIncident',
        { id: incidentId, status: 'CONTAINED', containedAt: '2024-03-02T09:00:00Z' },
        [['incident', 'UPDATE']],
      );

      const [{ id: exposureDbId }] = await app.database.db.query(
        `SELECT id FROM exposure WHERE incident_id = $1 AND client_id = $2`,
        [dbId(incidentId), dbId(clientId)],
      );
      const decision = await audited(
        app.adminToken,
        admin,
        'recordNotificationDecision',
        { exposureId: gid('Exposure', exposureDbId), status: 'ASSESSING' },
        [['notification_decision', 'INSERT']],
      );
      expect(decision.rows[0].row_data).toMatchObject({
        status: 'ASSESSING',
        decided_by_subject: 'test-admin',
      });

      // A client-role user records its own decision: audited with that client's id.
      const clientToken = await app.clientToken(dbId(clientId));
      const clientActor = {
        subject: `client-user-${dbId(clientId).slice(0, 8)}`,
        role: 'client',
        clientId: dbId(clientId),
      };
      const byClient = await audited(
        clientToken,
        clientActor,
        'recordNotificationDecision',
        {
          exposureId: gid('Exposure', exposureDbId),
          status: 'NOT_REQUIRED',
          justification: 'Pseudonymised data only',
        },
        [['notification_decision', 'INSERT']],
      );
      const viaApi = await postGraphQL(app.url, app.adminToken, {
        query: `{ auditEvents(filter: { operation: "${byClient.operationName}" }) { totalCount edges { node { ${AUDIT_FIELDS} } } } }`,
      });
      expect(viaApi.json.data.auditEvents.totalCount).toBe(1);
      expect(viaApi.json.data.auditEvents.edges[0].node).toMatchObject({
        actorSubject: clientActor.subject,
        actorRole: 'client',
        actorClientId: clientId,
        tableName: 'notification_decision',
        action: 'INSERT',
        requestId: byClient.requestId,
        input: [
          {
            field: 'recordNotificationDecision',
            arguments: {
              input: {
                exposureId: gid('Exposure', exposureDbId),
                status: 'NOT_REQUIRED',
                justification: 'Pseudonymised data only',
              },
            },
          },
        ],
      });

      await audited(app.adminToken, admin, 'removeSubprocessor', { supplierId, subprocessorId: sub }, [
        ['supplier_subprocessor', 'DELETE'],
      ]);
      // Removing a supplier, contract or agreement archives it (rule 10): an UPDATE that sets removed_at.
      const removedAgreement = await audited(
        app.adminToken,
        admin,
        'removeDataProcessingAgreement',
        { id: doomedAgreement },
        [['data_processing_agreement', 'UPDATE']],
      );
      expect(removedAgreement.rows[0].row_data).toMatchObject({
        reference: 'DPA-AUD-2',
        removed_at: expect.any(String),
      });
      const removedContract = await audited(app.adminToken, admin, 'removeContract', { id: doomedContract }, [
        ['contract', 'UPDATE'],
      ]);
      expect(removedContract.rows.find((r) => r.table_name === 'contract')).toMatchObject({
        record_id: dbId(doomedContract),
        row_data: expect.objectContaining({ reference: 'AUD-2', removed_at: expect.any(String) }),
      });
      await audited(app.adminToken, admin, 'removeClient', { id: doomedClient }, [['client', 'DELETE']]);
      const removedSupplier = await audited(app.adminToken, admin, 'removeSupplier', { id: doomedSupplier }, [
        ['supplier', 'UPDATE'],
      ]);
      expect(removedSupplier.rows[0].row_data).toMatchObject({
        id: dbId(doomedSupplier),
        name: 'Short-lived Supplier',
        removed_at: expect.any(String),
      });

      expect([...seen.keys()].sort()).toEqual(Object.keys(MUTATIONS).sort());
    });
  });

  describe('concurrent mutations', () => {
    it("each audit row names the actor of its own request, never a neighbour's", async () => {
      const actors = await Promise.all(
        Array.from({ length: 12 }, (_, i) => app.token('admin', { sub: `concurrent-admin-${i}` })),
      );
      const outcomes = await Promise.all(
        actors.map((token, i) =>
          mutate(token, 'createSupplier', {
            name: `Concurrent Supplier ${i}`,
            country: 'GB',
            tier: 'STANDARD',
          }),
        ),
      );
      for (const [i, outcome] of outcomes.entries()) {
        const rows = await auditRows(outcome.requestId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          actor_subject: `concurrent-admin-${i}`,
          operation: outcome.operationName,
          row_data: expect.objectContaining({ name: `Concurrent Supplier ${i}` }),
        });
        expect(rows[0].input[0].arguments.input.name).toBe(`Concurrent Supplier ${i}`);
      }
    });
  });

  describe('reading the trail', () => {
    let supplierId: string;
    let first: { requestId: string; operationName: string };
    let second: { requestId: string; operationName: string };
    let between: string;

    beforeAll(async () => {
      const analystB = await app.token('admin', { sub: 'auditor-b' });
      const created = await mutate(app.adminToken, 'createSupplier', {
        name: 'Filter Supplier',
        country: 'GB',
        tier: 'STANDARD',
      });
      supplierId = created.result.supplier.id;
      first = created;
      await new Promise((resolve) => setTimeout(resolve, 30));
      between = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 30));
      second = await mutate(analystB, 'updateSupplier', { id: supplierId, tier: 'IMPORTANT' });
    });

    const query = (filter: string, token = app.adminToken) =>
      postGraphQL(app.url, token, {
        query: `{ auditEvents(first: 100, filter: ${filter}) { totalCount edges { node { ${AUDIT_FIELDS} } } } }`,
      });
    const nodes = (response: RawResponse) => {
      expect(response.json.errors).toBeUndefined();
      return response.json.data.auditEvents.edges.map((e: { node: any }) => e.node);
    };

    it('filters by record, newest first', async () => {
      const events = nodes(await query(`{ recordId: "${supplierId}" }`));
      expect(events.map((e: any) => [e.action, e.actorSubject, e.operation])).toEqual([
        ['UPDATE', 'auditor-b', second.operationName],
        ['INSERT', 'test-admin', first.operationName],
      ]);
      expect(events.every((e: any) => e.recordGlobalId === supplierId && e.tableName === 'supplier')).toBe(
        true,
      );
      expect(Number(events[0].id)).toBeGreaterThan(Number(events[1].id));
      expect(events[0].rowData).toMatchObject({ name: 'Filter Supplier', tier: 'IMPORTANT' });
      expect(events[0].input).toEqual([
        { field: 'updateSupplier', arguments: { input: { id: supplierId, tier: 'IMPORTANT' } } },
      ]);
    });

    it('filters by actor, operation and time, combined', async () => {
      const byActor = nodes(await query(`{ actorSubject: "auditor-b" }`));
      expect(byActor.map((e: any) => e.requestId)).toEqual([second.requestId]);
      const byOperation = nodes(await query(`{ operation: "${first.operationName}" }`));
      expect(byOperation.map((e: any) => e.requestId)).toEqual([first.requestId]);
      const after = nodes(await query(`{ recordId: "${supplierId}", from: "${between}" }`));
      expect(after.map((e: any) => e.action)).toEqual(['UPDATE']);
      const before = nodes(await query(`{ recordId: "${supplierId}", to: "${between}" }`));
      expect(before.map((e: any) => e.action)).toEqual(['INSERT']);
      expect(
        nodes(await query(`{ actorSubject: "auditor-b", operation: "${first.operationName}" }`)),
      ).toEqual([]);
      expect(nodes(await query(`{ recordId: "not-a-global-id" }`))).toEqual([]);
      for (const event of nodes(await query(`{ from: "${between}" }`)))
        expect(new Date(event.occurredAt).getTime()).toBeGreaterThanOrEqual(new Date(between).getTime());
    });

    it('is for admins only: analyst and client get FORBIDDEN', async () => {
      const [{ id: clientDbId }] = await app.database.db.query(`SELECT id FROM client LIMIT 1`);
      for (const token of [app.analystToken, await app.clientToken(clientDbId)]) {
        const response = await query(`{ recordId: "${supplierId}" }`, token);
        expect(errorCodes(response)).toEqual(['FORBIDDEN']);
        expect(response.json.data).toBeNull();
        expect(response.text).not.toMatch(/Filter Supplier/);
      }
      const anonymous = await postGraphQL(app.url, null, { query: '{ auditEvents { totalCount } }' });
      expect(anonymous.status).toBe(401);
      expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('what is not audited', () => {
    it('a mutation answering with userErrors, or refused, writes no audit row', async () => {
      const before = await rowCount(app.database.db, 'audit_event');
      const [{ id: supplierDbId }] = await app.database.db.query(`SELECT id FROM supplier LIMIT 1`);
      const cases: [string, string, Record<string, unknown>][] = [
        [
          'CreateSupplierInput',
          'createSupplier',
          { name: 'Bad LEI', country: 'GB', tier: 'STANDARD', lei: '7LTWFZYICNSX8D621K87' },
        ],
        ['UpdateSupplierInput', 'updateSupplier', { id: gid('Supplier', supplierDbId), country: 'gb' }],
        [
          'CreateContractInput',
          'createContract',
          {
            clientId: gid('Client', '00000000-0000-4000-8000-000000000000'),
            supplierId: gid('Supplier', supplierDbId),
            reference: 'X',
            title: 'X',
            startsOn: '2023-01-01',
            criticality: 'STANDARD',
          },
        ],
        ['RemoveSupplierInput', 'removeSupplier', { id: 'not-an-id' }],
      ];
      for (const [inputType, field, input] of cases) {
        const response = await postGraphQL(app.url, app.adminToken, {
          query: `mutation Rejected($input: ${inputType}!) { ${field}(input: $input) { userErrors { field code } } }`,
          variables: { input },
        });
        expect(response.json.data[field].userErrors.length).toBeGreaterThan(0);
      }
      // Refused (an analyst may not create suppliers): a top-level FORBIDDEN, no audit row either.
      const refused = await postGraphQL(app.url, app.analystToken, {
        query: `mutation { createSupplier(input: { name: "No", country: "GB", tier: STANDARD }) { supplier { id } } }`,
      });
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
      expect(await rowCount(app.database.db, 'audit_event')).toBe(before);
      const [{ count }] = await app.database.db.query(
        `SELECT count(*)::int AS count FROM audit_event WHERE operation = 'Rejected'`,
      );
      expect(count).toBe(0);
    });

    it('queries write nothing to the trail; a write outside the API is recorded as "system"', async () => {
      const before = await rowCount(app.database.db, 'audit_event');
      await postGraphQL(app.url, app.adminToken, {
        query: '{ suppliers { totalCount } auditEvents { totalCount } }',
      });
      expect(await rowCount(app.database.db, 'audit_event')).toBe(before);
      const [{ id }] = await app.database.db.query(
        `INSERT INTO client (name, sector) VALUES ('Inserted by SQL', 'OTHER') RETURNING id`,
      );
      const rows: AuditRow[] = await app.database.db.query(
        `SELECT * FROM audit_event WHERE table_name = 'client' AND record_id = $1`,
        [id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_subject: 'system',
        actor_role: 'system',
        operation: 'direct database write',
        action: 'INSERT',
        request_id: null,
      });
    });
  });

  describe('append-only tables refuse change, even with direct SQL', () => {
    // The API's role may not even try (test/ops/database-roles.test.ts); the triggers hold for the owner too.
    it('audit_event, exposure_revision, exposure_alert and notification_decision reject UPDATE, DELETE and TRUNCATE by their owner', async () => {
      const db = app.database.db;
      // Rows in every table, so the row-level triggers have something to fire on.
      const supplier = await createSupplier(app.services, { name: 'Append-only Supplier' });
      const client = await createRegisterClient(app.services, { name: 'Append-only Council' });
      await createAgreement(app.services, (await createContract(app.services, client.id, supplier.id)).id);
      await recordIncident(app.services, supplier.id);
      const [{ id: exposureId }] = await db.query(`SELECT id FROM exposure WHERE client_id = $1`, [
        client.id,
      ]);
      await app.services.exposure.recordDecision(
        FACTORY_ADMIN,
        Object.assign(new RecordNotificationDecisionInput(), {
          exposureId: gid('Exposure', exposureId),
          status: NotificationStatus.ASSESSING,
        }),
      );
      for (const table of ['audit_event', 'exposure_revision', 'exposure_alert', 'notification_decision']) {
        const count = await rowCount(db, table);
        expect({ table, hasRows: count > 0 }).toEqual({ table, hasRows: true });
        const [{ md5: before }] = await db.query(
          `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS md5 FROM "${table}" t`,
        );
        const column =
          table === 'audit_event' ? 'operation' : table === 'notification_decision' ? 'justification' : 'id';
        const value = column === 'id' ? 'id' : `'tampered'`;
        await app.database.asOwner(async (owner) => {
          for (const statement of [
            `UPDATE "${table}" SET ${column} = ${value}`,
            `DELETE FROM "${table}"`,
            `DELETE FROM "${table}" WHERE id = (SELECT min(id) FROM "${table}")`,
            `TRUNCATE "${table}"`,
            `TRUNCATE "${table}" CASCADE`,
          ]) {
            await expect(owner.query(statement)).rejects.toThrow(
              new RegExp(`${table} is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed`),
            );
          }
        });
        const [{ md5: after }] = await db.query(
          `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS md5 FROM "${table}" t`,
        );
        expect({ table, rows: await rowCount(db, table), md5: after }).toEqual({
          table,
          rows: count,
          md5: before,
        });
      }
    });

    it('inside a transaction the failure rolls back the whole transaction', async () => {
      const db = app.database.db;
      const suppliersBefore = await rowCount(db, 'supplier');
      const runner = db.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(
          `INSERT INTO supplier (name, country, tier) VALUES ('Cover-up Ltd', 'GB', 'STANDARD')`,
        );
        await expect(runner.query(`DELETE FROM audit_event WHERE table_name = 'supplier'`)).rejects.toThrow(
          /permission denied for table audit_event/,
        );
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      expect(await rowCount(db, 'supplier')).toBe(suppliersBefore);
    });
  });
});
