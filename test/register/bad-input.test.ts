import { NodeTypeName, encodeGlobalId } from '../../src/common/global-id';
import { encodeCursor } from '../../src/common/connection';
import { GraphQLResponse, TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';
import { databaseFingerprint, expectNothingWritten, onlyError } from './helpers';
import { MUTATIONS, MutationName } from '../support/mutations';

/**
 * Bad input through the real API. Every mutation answers with userErrors (a field path into the
 * input and a code) and writes nothing; the whole database is fingerprinted around each call.
 * Values the GraphQL layer itself rejects (impossible dates, unknown enum values, out-of-range
 * Int) are GraphQL validation errors and also write nothing. Paging arguments out of range are
 * errors that say so.
 */

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

const mutationText = (name: MutationName) => {
  const [inputType, object] = MUTATIONS[name];
  return `mutation($input: ${inputType}!) { result: ${name}(input: $input) { ${object} userErrors { field code message } } }`;
};

describe('bad input', () => {
  let app: TestApp;
  const w = {} as Record<'S1' | 'S2' | 'S3' | 'C1' | 'C2' | 'k1' | 'k2' | 'a1' | 'a2' | 'i1' | 'e1', string>;
  const g = (type: NodeTypeName, key: keyof typeof w) => encodeGlobalId(type, w[key]);

  beforeAll(async () => {
    app = await startTestApp();
    const s = app.services;
    w.S1 = (await createSupplier(s, { name: 'Supplier One' })).id;
    w.S2 = (await createSupplier(s, { name: 'Supplier Two' })).id;
    w.S3 = (await createSupplier(s, { name: 'Supplier Three' })).id;
    await linkSubprocessor(s, w.S1, w.S2);
    w.C1 = (await createClient(s, { name: 'Client One' })).id;
    w.C2 = (await createClient(s, { name: 'Client Two' })).id;
    w.k1 = (await createContract(s, w.C1, w.S1, { reference: 'K-1', startsOn: '2022-01-01' })).id;
    w.k2 = (
      await createContract(s, w.C1, w.S1, { reference: 'K-2', startsOn: '2022-01-01', endsOn: '2022-12-31' })
    ).id;
    w.a1 = (await createAgreement(s, w.k1, { reference: 'DPA-1' })).id;
    w.a2 = (await createAgreement(s, w.k1, { reference: 'DPA-2', dataRetainedUntil: '2022-06-30' })).id;
    w.i1 = (
      await recordIncident(s, w.S1, {
        title: 'Known incident',
        startedAt: new Date('2023-03-22T00:00:00Z'),
        detectedAt: new Date('2023-03-31T00:00:00Z'),
      })
    ).incident.id;
    [{ id: w.e1 }] = await app.database.db.query(`SELECT id FROM exposure`);
  });
  afterAll(() => app.stop());

  /** Sends the mutation and checks: no top-level error, no object, exactly these (field, code) pairs, each with a message; nothing written. */
  async function expectUserErrors(
    name: MutationName,
    input: Record<string, unknown>,
    expected: [string[], string][],
  ) {
    const response = await expectNothingWritten(app.database.db, () =>
      app.gql(app.adminToken, mutationText(name), { input }),
    );
    const result = dataOf(response).result;
    const [, object] = MUTATIONS[name];
    expect(result[object.split(' ')[0]]).toBeNull();
    for (const error of result.userErrors) expect(error.message).toEqual(expect.stringMatching(/\S/));
    const pairs = [
      ...new Set(
        result.userErrors.map((e: { field: string[]; code: string }) => JSON.stringify([e.field, e.code])),
      ),
    ].map((p) => JSON.parse(p as string));
    expect({ name, input, userErrors: pairs }).toEqual({ name, input, userErrors: expected });
    return result.userErrors as { field: string[]; code: string; message: string }[];
  }

  const supplierInput = (overrides: Record<string, unknown> = {}) => ({
    name: 'New Supplier',
    country: 'GB',
    tier: 'STANDARD',
    ...overrides,
  });
  const contractInput = (overrides: Record<string, unknown> = {}) => ({
    clientId: g('Client', 'C1'),
    supplierId: g('Supplier', 'S1'),
    reference: 'K-NEW',
    title: 'New service',
    startsOn: '2023-01-01',
    criticality: 'STANDARD',
    ...overrides,
  });
  const agreementInput = (overrides: Record<string, unknown> = {}) => ({
    contractId: g('Contract', 'k1'),
    reference: 'DPA-NEW',
    dataCategories: ['CONTACT'],
    dataSubjectCount: 10,
    processingLocations: ['GB'],
    ...overrides,
  });
  const incidentInput = (overrides: Record<string, unknown> = {}) => ({
    supplierId: g('Supplier', 'S3'),
    title: 'New incident',
    kind: 'CYBER_ATTACK',
    status: 'SUSPECTED',
    detectedAt: '2024-01-10T00:00:00Z',
    exfiltration: 'SUSPECTED',
    ...overrides,
  });

  describe('IDs', () => {
    it('malformed global IDs: NOT_FOUND on the field that held them', async () => {
      for (const bad of [
        'nope',
        '',
        '!!!',
        encodeGlobalId('Supplier', 'not-a-uuid'),
        Buffer.from('Planet:' + UNKNOWN_UUID).toString('base64url'),
      ]) {
        await expectUserErrors('createContract', contractInput({ clientId: bad }), [
          [['input', 'clientId'], 'NOT_FOUND'],
        ]);
        await expectUserErrors('updateSupplier', { id: bad, name: 'X' }, [[['input', 'id'], 'NOT_FOUND']]);
        await expectUserErrors('createDataProcessingAgreement', agreementInput({ contractId: bad }), [
          [['input', 'contractId'], 'NOT_FOUND'],
        ]);
        await expectUserErrors('recordIncident', incidentInput({ supplierId: bad }), [
          [['input', 'supplierId'], 'NOT_FOUND'],
        ]);
        await expectUserErrors('recordNotificationDecision', { exposureId: bad, status: 'ASSESSING' }, [
          [['input', 'exposureId'], 'NOT_FOUND'],
        ]);
      }
    });

    it('an ID of the wrong type (a Client where a Supplier is expected, and so on) is NOT_FOUND', async () => {
      await expectUserErrors('createContract', contractInput({ supplierId: g('Client', 'C1') }), [
        [['input', 'supplierId'], 'NOT_FOUND'],
      ]);
      await expectUserErrors(
        'createContract',
        contractInput({ clientId: g('Supplier', 'S1'), supplierId: g('Client', 'C1') }),
        [
          [['input', 'clientId'], 'NOT_FOUND'],
          [['input', 'supplierId'], 'NOT_FOUND'],
        ],
      );
      await expectUserErrors(
        'addSubprocessor',
        { supplierId: g('Supplier', 'S1'), subprocessorId: g('Client', 'C2') },
        [[['input', 'subprocessorId'], 'NOT_FOUND']],
      );
      await expectUserErrors('updateClient', { id: g('Supplier', 'S1'), name: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('updateContract', { id: g('DataProcessingAgreement', 'a1'), title: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors(
        'updateDataProcessingAgreement',
        { id: g('Contract', 'k1'), dataSubjectCount: 1 },
        [[['input', 'id'], 'NOT_FOUND']],
      );
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ subprocessorIds: [g('Supplier', 'S3'), g('Client', 'C1')] }),
        [[['input', 'subprocessorIds', '1'], 'NOT_FOUND']],
      );
      await expectUserErrors('recordIncident', incidentInput({ supplierId: g('Client', 'C1') }), [
        [['input', 'supplierId'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('updateIncident', { id: g('Supplier', 'S1'), title: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors(
        'recordNotificationDecision',
        { exposureId: g('Incident', 'i1'), status: 'ASSESSING' },
        [[['input', 'exposureId'], 'NOT_FOUND']],
      );
      await expectUserErrors('removeSupplier', { id: g('Client', 'C2') }, [[['input', 'id'], 'NOT_FOUND']]);
    });

    it('well-formed IDs that name nothing are NOT_FOUND', async () => {
      const unknown = (type: NodeTypeName) => encodeGlobalId(type, UNKNOWN_UUID);
      await expectUserErrors(
        'createContract',
        contractInput({ clientId: unknown('Client'), supplierId: unknown('Supplier') }),
        [
          [['input', 'clientId'], 'NOT_FOUND'],
          [['input', 'supplierId'], 'NOT_FOUND'],
        ],
      );
      await expectUserErrors(
        'addSubprocessor',
        { supplierId: unknown('Supplier'), subprocessorId: g('Supplier', 'S3') },
        [[['input', 'supplierId'], 'NOT_FOUND']],
      );
      await expectUserErrors(
        'removeSubprocessor',
        { supplierId: g('Supplier', 'S1'), subprocessorId: unknown('Supplier') },
        [[['input', 'subprocessorId'], 'NOT_FOUND']],
      );
      await expectUserErrors(
        'removeSubprocessor',
        { supplierId: g('Supplier', 'S1'), subprocessorId: g('Supplier', 'S3') },
        [[['input', 'subprocessorId'], 'NOT_FOUND']],
      );
      await expectUserErrors('updateSupplier', { id: unknown('Supplier'), name: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('removeSupplier', { id: unknown('Supplier') }, [[['input', 'id'], 'NOT_FOUND']]);
      await expectUserErrors('updateClient', { id: unknown('Client'), name: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('removeClient', { id: unknown('Client') }, [[['input', 'id'], 'NOT_FOUND']]);
      await expectUserErrors('updateContract', { id: unknown('Contract'), title: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('removeContract', { id: unknown('Contract') }, [[['input', 'id'], 'NOT_FOUND']]);
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ contractId: unknown('Contract') }),
        [[['input', 'contractId'], 'NOT_FOUND']],
      );
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ subprocessorIds: [unknown('Supplier')] }),
        [[['input', 'subprocessorIds', '0'], 'NOT_FOUND']],
      );
      await expectUserErrors(
        'updateDataProcessingAgreement',
        { id: unknown('DataProcessingAgreement'), dataSubjectCount: 1 },
        [[['input', 'id'], 'NOT_FOUND']],
      );
      await expectUserErrors('removeDataProcessingAgreement', { id: unknown('DataProcessingAgreement') }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('recordIncident', incidentInput({ supplierId: unknown('Supplier') }), [
        [['input', 'supplierId'], 'NOT_FOUND'],
      ]);
      await expectUserErrors('updateIncident', { id: unknown('Incident'), title: 'X' }, [
        [['input', 'id'], 'NOT_FOUND'],
      ]);
      await expectUserErrors(
        'recordNotificationDecision',
        { exposureId: unknown('Exposure'), status: 'ASSESSING' },
        [[['input', 'exposureId'], 'NOT_FOUND']],
      );
    });
  });

  describe('suppliers', () => {
    it('LEI with wrong check digits, or the wrong shape', async () => {
      // 7LTWFZYICNSX8D621K86 is a real LEI; changing a check digit breaks ISO 7064 MOD 97-10.
      for (const lei of [
        '7LTWFZYICNSX8D621K87',
        '7LTWFZYICNSX8D621K8',
        '7ltwfzyicnsx8d621k86',
        'ABCDEFGHIJKLMNOPQRST',
      ]) {
        await expectUserErrors('createSupplier', supplierInput({ lei }), [[['input', 'lei'], 'INVALID']]);
      }
      await expectUserErrors('updateSupplier', { id: g('Supplier', 'S1'), lei: '7LTWFZYICNSX8D621K87' }, [
        [['input', 'lei'], 'INVALID'],
      ]);
    });

    it('country codes: unknown, lowercase, too long, empty', async () => {
      for (const country of ['XX', 'gb', 'GBR', '', 'UK']) {
        await expectUserErrors('createSupplier', supplierInput({ country }), [
          [['input', 'country'], 'INVALID'],
        ]);
      }
      await expectUserErrors('updateSupplier', { id: g('Supplier', 'S1'), country: 'fr' }, [
        [['input', 'country'], 'INVALID'],
      ]);
    });

    it('Companies House number format', async () => {
      for (const companyNumber of ['1234', '123456789', 'sc123456', 'SC12345', '0208133O']) {
        await expectUserErrors('createSupplier', supplierInput({ companyNumber }), [
          [['input', 'companyNumber'], 'INVALID'],
        ]);
      }
    });

    it('blank or overlong names', async () => {
      await expectUserErrors('createSupplier', supplierInput({ name: '   ' }), [
        [['input', 'name'], 'INVALID'],
      ]);
      await expectUserErrors('createSupplier', supplierInput({ name: 'x'.repeat(201) }), [
        [['input', 'name'], 'INVALID'],
      ]);
      await expectUserErrors('createClient', { name: '', sector: 'OTHER' }, [[['input', 'name'], 'INVALID']]);
    });

    it('a duplicate LEI or company number is a CONFLICT', async () => {
      await dataOf(
        await app.gql(app.adminToken, mutationText('createSupplier'), {
          input: supplierInput({ name: 'Holder', lei: '7LTWFZYICNSX8D621K86', companyNumber: '02081330' }),
        }),
      );
      await expectUserErrors('createSupplier', supplierInput({ lei: '7LTWFZYICNSX8D621K86' }), [
        [['input', 'lei'], 'CONFLICT'],
      ]);
      await expectUserErrors('createSupplier', supplierInput({ companyNumber: '02081330' }), [
        [['input', 'companyNumber'], 'CONFLICT'],
      ]);
    });

    it('self sub-processor is INVALID, a duplicate link is a CONFLICT', async () => {
      await expectUserErrors(
        'addSubprocessor',
        { supplierId: g('Supplier', 'S1'), subprocessorId: g('Supplier', 'S1') },
        [[['input', 'subprocessorId'], 'INVALID']],
      );
      await expectUserErrors(
        'addSubprocessor',
        { supplierId: g('Supplier', 'S1'), subprocessorId: g('Supplier', 'S2') },
        [[['input', 'subprocessorId'], 'CONFLICT']],
      );
    });

    it('removing a supplier still in use is a CONFLICT: with contracts and incidents, or as a sub-processor', async () => {
      await expectUserErrors('removeSupplier', { id: g('Supplier', 'S1') }, [[['input', 'id'], 'CONFLICT']]);
      await expectUserErrors('removeSupplier', { id: g('Supplier', 'S2') }, [[['input', 'id'], 'CONFLICT']]);
    });

    it('removing a client that still has contracts is a CONFLICT', async () => {
      await expectUserErrors('removeClient', { id: g('Client', 'C1') }, [[['input', 'id'], 'CONFLICT']]);
    });
  });

  describe('contracts', () => {
    it('endsOn before startsOn, on create and on update (either end moved)', async () => {
      await expectUserErrors(
        'createContract',
        contractInput({ startsOn: '2023-06-01', endsOn: '2023-05-31' }),
        [[['input', 'endsOn'], 'INVALID']],
      );
      await expectUserErrors('updateContract', { id: g('Contract', 'k1'), endsOn: '2021-12-31' }, [
        [['input', 'endsOn'], 'INVALID'],
      ]);
      await expectUserErrors('updateContract', { id: g('Contract', 'k2'), startsOn: '2023-01-01' }, [
        [['input', 'startsOn'], 'INVALID'],
      ]);
    });

    it('negative money, bad currency, lowercase currency', async () => {
      await expectUserErrors(
        'createContract',
        contractInput({ value: { amount: '-1.00', currency: 'GBP' } }),
        [[['input', 'value', 'amount'], 'INVALID']],
      );
      await expectUserErrors(
        'createContract',
        contractInput({ value: { amount: '-0.01', currency: 'GBP' } }),
        [[['input', 'value', 'amount'], 'INVALID']],
      );
      await expectUserErrors(
        'createContract',
        contractInput({ value: { amount: '10.00', currency: 'XYZ' } }),
        [[['input', 'value', 'currency'], 'INVALID']],
      );
      await expectUserErrors(
        'createContract',
        contractInput({ value: { amount: '10.00', currency: 'gbp' } }),
        [[['input', 'value', 'currency'], 'INVALID']],
      );
      await expectUserErrors(
        'createContract',
        contractInput({ value: { amount: '10.00', currency: 'POUNDS' } }),
        [[['input', 'value', 'currency'], 'INVALID']],
      );
      await expectUserErrors(
        'updateContract',
        { id: g('Contract', 'k1'), value: { amount: '-5', currency: 'GBP' } },
        [[['input', 'value', 'amount'], 'INVALID']],
      );
    });

    it('a duplicate reference for the same client is a CONFLICT (another client may use it)', async () => {
      await expectUserErrors('createContract', contractInput({ reference: 'K-1' }), [
        [['input', 'reference'], 'CONFLICT'],
      ]);
      await expectUserErrors('updateContract', { id: g('Contract', 'k2'), reference: 'K-1' }, [
        [['input', 'reference'], 'CONFLICT'],
      ]);
      await expectUserErrors('createContract', contractInput({ reference: '  ' }), [
        [['input', 'reference'], 'INVALID'],
      ]);
      const other = dataOf(
        await app.gql(app.adminToken, mutationText('createContract'), {
          input: contractInput({ clientId: g('Client', 'C2'), reference: 'K-1' }),
        }),
      ).result;
      expect(other.userErrors).toEqual([]);
      expect(other.contract.id).toEqual(expect.any(String));
    });

    it("moving a contract's start after an agreement's dataRetainedUntil is INVALID", async () => {
      // a2 keeps data until 2022-06-30; a contract starting after that would leave it retained "before the contract".
      await expectUserErrors('updateContract', { id: g('Contract', 'k1'), startsOn: '2022-07-01' }, [
        [['input', 'startsOn'], 'INVALID'],
      ]);
    });
  });

  describe('data processing agreements', () => {
    it('negative or too large dataSubjectCount', async () => {
      await expectUserErrors('createDataProcessingAgreement', agreementInput({ dataSubjectCount: -1 }), [
        [['input', 'dataSubjectCount'], 'INVALID'],
      ]);
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ dataSubjectCount: 2_100_000_000 }),
        [[['input', 'dataSubjectCount'], 'INVALID']],
      );
      await expectUserErrors(
        'updateDataProcessingAgreement',
        { id: g('DataProcessingAgreement', 'a1'), dataSubjectCount: -5 },
        [[['input', 'dataSubjectCount'], 'INVALID']],
      );
    });

    it('a duplicate reference within the contract is a CONFLICT', async () => {
      await expectUserErrors('createDataProcessingAgreement', agreementInput({ reference: 'DPA-1' }), [
        [['input', 'reference'], 'CONFLICT'],
      ]);
      await expectUserErrors(
        'updateDataProcessingAgreement',
        { id: g('DataProcessingAgreement', 'a2'), reference: 'DPA-1' },
        [[['input', 'reference'], 'CONFLICT']],
      );
    });

    it('dataRetainedUntil before the contract starts', async () => {
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ dataRetainedUntil: '2021-12-31' }),
        [[['input', 'dataRetainedUntil'], 'INVALID']],
      );
      await expectUserErrors(
        'updateDataProcessingAgreement',
        { id: g('DataProcessingAgreement', 'a1'), dataRetainedUntil: '2020-01-01' },
        [[['input', 'dataRetainedUntil'], 'INVALID']],
      );
    });

    it("the contract's own supplier as sub-processor, repeats, empty categories, bad locations", async () => {
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ subprocessorIds: [g('Supplier', 'S1')] }),
        [[['input', 'subprocessorIds', '0'], 'INVALID']],
      );
      await expectUserErrors(
        'updateDataProcessingAgreement',
        {
          id: g('DataProcessingAgreement', 'a1'),
          subprocessorIds: [g('Supplier', 'S3'), g('Supplier', 'S1')],
        },
        [[['input', 'subprocessorIds', '1'], 'INVALID']],
      );
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ subprocessorIds: [g('Supplier', 'S3'), g('Supplier', 'S3')] }),
        [[['input', 'subprocessorIds'], 'INVALID']],
      );
      await expectUserErrors('createDataProcessingAgreement', agreementInput({ dataCategories: [] }), [
        [['input', 'dataCategories'], 'INVALID'],
      ]);
      await expectUserErrors(
        'createDataProcessingAgreement',
        agreementInput({ dataCategories: ['CONTACT', 'CONTACT'] }),
        [[['input', 'dataCategories'], 'INVALID']],
      );
      for (const processingLocations of [['gb'], ['XX'], ['GB', 'GB'], ['GBR']]) {
        await expectUserErrors('createDataProcessingAgreement', agreementInput({ processingLocations }), [
          [['input', 'processingLocations'], 'INVALID'],
        ]);
      }
    });
  });

  describe('incidents and decisions', () => {
    it('startedAt after detectedAt; containedAt before the start (or before detection when the start is unknown)', async () => {
      await expectUserErrors('recordIncident', incidentInput({ startedAt: '2024-01-11T00:00:00Z' }), [
        [['input', 'startedAt'], 'INVALID'],
      ]);
      await expectUserErrors(
        'recordIncident',
        incidentInput({ startedAt: '2024-01-05T00:00:00Z', containedAt: '2024-01-04T23:59:59Z' }),
        [[['input', 'containedAt'], 'INVALID']],
      );
      await expectUserErrors('recordIncident', incidentInput({ containedAt: '2024-01-09T00:00:00Z' }), [
        [['input', 'containedAt'], 'INVALID'],
      ]);
      await expectUserErrors(
        'updateIncident',
        { id: g('Incident', 'i1'), startedAt: '2023-04-01T00:00:00Z' },
        [[['input', 'startedAt'], 'INVALID']],
      );
      await expectUserErrors(
        'updateIncident',
        { id: g('Incident', 'i1'), containedAt: '2023-03-21T00:00:00Z' },
        [[['input', 'containedAt'], 'INVALID']],
      );
    });

    it('times that cannot be true: in the future, notified before detection, CONTAINED with no containment time, an uncleared detection', async () => {
      const hourAhead = new Date(Date.now() + 3_600_000).toISOString();
      await expectUserErrors('recordIncident', incidentInput({ detectedAt: hourAhead }), [
        [['input', 'detectedAt'], 'INVALID'],
      ]);
      await expectUserErrors(
        'recordIncident',
        incidentInput({ startedAt: hourAhead, detectedAt: hourAhead }),
        [
          [['input', 'startedAt'], 'INVALID'],
          [['input', 'detectedAt'], 'INVALID'],
        ],
      );
      await expectUserErrors('recordIncident', incidentInput({ clientsNotifiedAt: '2024-01-09T23:59:59Z' }), [
        [['input', 'clientsNotifiedAt'], 'INVALID'],
      ]);
      await expectUserErrors('recordIncident', incidentInput({ status: 'CONTAINED' }), [
        [['input', 'containedAt'], 'INVALID'],
      ]);
      // updateIncident checks the merged old and new values: i1 was detected 2023-03-31 and has no containment time.
      const i1 = g('Incident', 'i1');
      await expectUserErrors('updateIncident', { id: i1, detectedAt: hourAhead }, [
        [['input', 'detectedAt'], 'INVALID'],
      ]);
      await expectUserErrors('updateIncident', { id: i1, clientsNotifiedAt: '2023-03-30T00:00:00Z' }, [
        [['input', 'clientsNotifiedAt'], 'INVALID'],
      ]);
      await expectUserErrors('updateIncident', { id: i1, status: 'CONTAINED' }, [
        [['input', 'containedAt'], 'INVALID'],
      ]);
      const [cleared] = await expectUserErrors('updateIncident', { id: i1, detectedAt: null }, [
        [['input', 'detectedAt'], 'INVALID'],
      ]);
      expect(cleared.message).toMatch(/cannot be cleared/);
    });

    it('blank title, repeated categories', async () => {
      await expectUserErrors('recordIncident', incidentInput({ title: ' ' }), [
        [['input', 'title'], 'INVALID'],
      ]);
      await expectUserErrors(
        'recordIncident',
        incidentInput({ dataCategoriesAffected: ['HEALTH', 'HEALTH'] }),
        [[['input', 'dataCategoriesAffected'], 'INVALID']],
      );
    });

    it('notification decisions: REPORTED needs reportedAt (not in the future), NOT_REQUIRED needs a justification', async () => {
      const exposureId = g('Exposure', 'e1');
      await expectUserErrors('recordNotificationDecision', { exposureId, status: 'REPORTED' }, [
        [['input', 'reportedAt'], 'INVALID'],
      ]);
      await expectUserErrors(
        'recordNotificationDecision',
        { exposureId, status: 'REPORTED', reportedAt: new Date(Date.now() + 86_400_000).toISOString() },
        [[['input', 'reportedAt'], 'INVALID']],
      );
      await expectUserErrors('recordNotificationDecision', { exposureId, status: 'NOT_REQUIRED' }, [
        [['input', 'justification'], 'INVALID'],
      ]);
      await expectUserErrors(
        'recordNotificationDecision',
        { exposureId, status: 'NOT_REQUIRED', justification: '   ' },
        [[['input', 'justification'], 'INVALID']],
      );
      // The incident behind e1 started on 2023-03-22: nobody reported it to a regulator before that.
      const [early] = await expectUserErrors(
        'recordNotificationDecision',
        { exposureId, status: 'REPORTED', reportedAt: '2023-03-21T23:59:59Z' },
        [[['input', 'reportedAt'], 'INVALID']],
      );
      expect(early.message).toMatch(/before the incident started/);
    });
  });

  describe('values the GraphQL layer rejects', () => {
    /** A request rejected before any resolver ran: an error, no data, nothing written. */
    async function expectRejected(
      query: string,
      variables: Record<string, unknown> | undefined,
      message: RegExp,
    ) {
      const response = await expectNothingWritten(app.database.db, () =>
        app.gql(app.adminToken, query, variables),
      );
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors?.length).toBeGreaterThan(0);
      expect(response.body.errors!.map((e) => e.message).join('\n')).toMatch(message);
      expect(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']).toContain(
        response.body.errors![0].extensions?.code,
      );
      return response;
    }

    const literalContract = (startsOn: string) =>
      `mutation { createContract(input: { clientId: "${g('Client', 'C1')}", supplierId: "${g('Supplier', 'S1')}", reference: "K-DATE", title: "T", startsOn: "${startsOn}", criticality: STANDARD }) { contract { id } } }`;
    const badDates = [
      '2023-02-30',
      '2023-02-29',
      '2023-13-01',
      '2023-04-31',
      '2023-1-5',
      '31/01/2023',
      '2023-01-01T00:00:00Z',
    ];
    const badInstants = ['2023-02-30T00:00:00Z', '2023-03-31T25:00:00Z', '2023-03-31', 'yesterday'];

    it('written in the query: impossible dates and instants, unknown enum values, Int beyond 32 bits, bad decimals', async () => {
      for (const date of badDates) {
        const response = await expectRejected(literalContract(date), undefined, /Date|date/);
        expect(response.body.errors![0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      }
      for (const detectedAt of badInstants) {
        await expectRejected(
          `mutation { recordIncident(input: { supplierId: "${g('Supplier', 'S3')}", title: "T", kind: OTHER, status: SUSPECTED, detectedAt: "${detectedAt}", exfiltration: NONE_FOUND }) { incident { id } } }`,
          undefined,
          /DateTime|date/i,
        );
      }
      await expectRejected(
        `mutation { createSupplier(input: { name: "X", country: "GB", tier: MEGA }) { supplier { id } } }`,
        undefined,
        /MEGA/,
      );
      await expectRejected(
        `mutation { createClient(input: { name: "X", sector: GOVERNMENT }) { client { id } } }`,
        undefined,
        /GOVERNMENT/,
      );
      await expectRejected(`{ suppliers(filter: { tier: MEGA }) { totalCount } }`, undefined, /MEGA/);
      await expectRejected(
        `mutation { createDataProcessingAgreement(input: { contractId: "${g('Contract', 'k1')}", reference: "R", dataCategories: [TELEPATHY], dataSubjectCount: 1, processingLocations: ["GB"] }) { dataProcessingAgreement { id } } }`,
        undefined,
        /TELEPATHY/,
      );
      await expectRejected(
        `mutation { createDataProcessingAgreement(input: { contractId: "${g('Contract', 'k1')}", reference: "R", dataCategories: [CONTACT], dataSubjectCount: 3000000000, processingLocations: ["GB"] }) { dataProcessingAgreement { id } } }`,
        undefined,
        /Int/,
      );
      await expectRejected(
        `mutation { createContract(input: { clientId: "${g('Client', 'C1')}", supplierId: "${g('Supplier', 'S1')}", reference: "K-D", title: "T", startsOn: "2023-01-01", criticality: STANDARD, value: { amount: "1.234", currency: "GBP" } }) { contract { id } } }`,
        undefined,
        /Decimal/,
      );
    });

    it('years before 1900 (or after 9999), in any date or instant, written in the query or sent as variables (year 0000 used to reach PostgreSQL)', async () => {
      for (const startsOn of ['0000-01-01', '1899-12-31']) {
        await expectRejected(literalContract(startsOn), undefined, /years 1900 to 9999/);
        await expectRejected(
          mutationText('createContract'),
          { input: contractInput({ startsOn }) },
          /years 1900 to 9999/,
        );
      }
      // The last: an instant in the year 10000 (UTC), which no longer writes as a four-digit year.
      for (const detectedAt of [
        '0000-01-01T00:00:00Z',
        '1899-12-31T23:59:59Z',
        '9999-12-31T23:00:00-14:00',
      ]) {
        await expectRejected(
          mutationText('recordIncident'),
          { input: incidentInput({ detectedAt }) },
          /years 1900 to 9999/,
        );
      }
      // A query argument too: asOf(at:) answered INTERNAL_SERVER_ERROR for year 0000.
      const asOf = `query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Exposure { asOf(at: $at) { revision } } } }`;
      const response = await expectRejected(
        asOf,
        { id: g('Exposure', 'e1'), at: '0000-01-01T00:00:00Z' },
        /years 1900 to 9999/,
      );
      expect(response.body.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
      await expectRejected(
        `{ node(id: "${g('Exposure', 'e1')}") { ... on Exposure { asOf(at: "0000-06-01T00:00:00Z") { revision } } } }`,
        undefined,
        /years 1900 to 9999/,
      );
      // 1900 itself is a year like any other.
      const ok = dataOf(
        await app.gql(app.adminToken, asOf, { id: g('Exposure', 'e1'), at: '1900-01-01T00:00:00Z' }),
      );
      expect(ok.node.asOf).toBeNull();
    });

    // Through variables, graphql-js reports these while coercing the variables; Apollo answers 400 BAD_USER_INPUT.
    // (A plugin that computes query cost from the variables must not turn them into a 500 INTERNAL_SERVER_ERROR,
    // which production would mask as "Internal server error", hiding the reason from the caller.)
    it('sent as variables: the same values are BAD_USER_INPUT (HTTP 400) that name the reason, not internal errors', async () => {
      const asVariable = async (name: MutationName, input: Record<string, unknown>, message: RegExp) => {
        const response = await expectRejected(mutationText(name), { input }, message);
        expect({ input, code: response.body.errors![0].extensions?.code }).toEqual({
          input,
          code: 'BAD_USER_INPUT',
        });
      };
      for (const startsOn of badDates)
        await asVariable('createContract', contractInput({ startsOn }), /Date|date/);
      await asVariable('updateContract', { id: g('Contract', 'k1'), endsOn: '2024-02-30' }, /Date|date/);
      await asVariable(
        'createDataProcessingAgreement',
        agreementInput({ dataRetainedUntil: '2023-02-29' }),
        /Date|date/,
      );
      for (const detectedAt of badInstants)
        await asVariable('recordIncident', incidentInput({ detectedAt }), /DateTime|date/i);
      await asVariable('createSupplier', supplierInput({ tier: 'MEGA' }), /MEGA/);
      await asVariable('createClient', { name: 'X', sector: 'GOVERNMENT' }, /GOVERNMENT/);
      await asVariable(
        'createDataProcessingAgreement',
        agreementInput({ dataCategories: ['TELEPATHY'] }),
        /TELEPATHY/,
      );
      await asVariable('recordIncident', incidentInput({ kind: 'ALIENS' }), /ALIENS/);
      await asVariable(
        'createDataProcessingAgreement',
        agreementInput({ dataSubjectCount: 3_000_000_000 }),
        /Int/,
      );
      await asVariable('createDataProcessingAgreement', agreementInput({ dataSubjectCount: 1.5 }), /Int/);
      await asVariable(
        'createContract',
        contractInput({ value: { amount: '1.234', currency: 'GBP' } }),
        /Decimal/,
      );
      await asVariable(
        'createContract',
        contractInput({ value: { amount: 'lots', currency: 'GBP' } }),
        /Decimal/,
      );
    });
  });

  describe('list filters', () => {
    const tooLong = (n: number) => 'x'.repeat(n);

    it('a search longer than 200 characters is an error that says so, before any SQL runs (a 90 kB search used to run)', async () => {
      for (const search of [tooLong(201), tooLong(90_000)]) {
        for (const query of [
          'query($s: String) { suppliers(filter: { search: $s }) { totalCount } }',
          'query($s: String) { clients(filter: { search: $s }) { totalCount } }',
        ]) {
          const response = await app.gql(app.adminToken, query, { s: search });
          expect(response.body.data ?? null).toBeNull();
          expect(response.body.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
            ['filter.search must be at most 200 characters long', 'BAD_USER_INPUT'],
          ]);
          expect(response.sqlStatements).toBe(0);
        }
      }
      expect(
        dataOf(
          await app.gql(
            app.adminToken,
            'query($s: String) { suppliers(filter: { search: $s }) { totalCount } }',
            { s: tooLong(200) },
          ),
        ).suppliers.totalCount,
      ).toBe(0);
    });

    it('every other text and ID in a filter has the same bound, nested lists included', async () => {
      const long = tooLong(201);
      const cases: [string, string][] = [
        [`{ auditEvents(filter: { actorSubject: "${long}" }) { totalCount } }`, 'filter.actorSubject'],
        [`{ auditEvents(filter: { operation: "${long}" }) { totalCount } }`, 'filter.operation'],
        [`{ auditEvents(filter: { recordId: "${long}" }) { totalCount } }`, 'filter.recordId'],
        [`{ incidents(filter: { supplierId: "${long}" }) { totalCount } }`, 'filter.supplierId'],
        [`{ exposures(filter: { clientId: "${long}" }) { totalCount } }`, 'filter.clientId'],
        [
          `{ clients(first: 1) { edges { node { exposures(filter: { incidentId: "${long}" }) { totalCount } } } } }`,
          'filter.incidentId',
        ],
      ];
      for (const [query, field] of cases) {
        const messages = (await app.gql(app.adminToken, query)).body.errors?.map((e) => e.message);
        expect({ field, messages }).toEqual({
          field,
          messages: [`${field} must be at most 200 characters long`],
        });
      }
    });
  });

  describe('paging arguments', () => {
    const lists: [string, string][] = [
      [
        'suppliers',
        `query($first: Int, $after: String) { suppliers(first: $first, after: $after) { edges { cursor } } }`,
      ],
      [
        'clients',
        `query($first: Int, $after: String) { clients(first: $first, after: $after) { edges { cursor } } }`,
      ],
      [
        'incidents',
        `query($first: Int, $after: String) { incidents(first: $first, after: $after) { edges { cursor } } }`,
      ],
      [
        'exposures',
        `query($first: Int, $after: String) { exposures(first: $first, after: $after) { edges { cursor } } }`,
      ],
      [
        'Supplier.contracts',
        `query($first: Int, $after: String) { suppliers(first: 1) { edges { node { contracts(first: $first, after: $after) { edges { cursor } } } } } }`,
      ],
      [
        'Supplier.incidents',
        `query($first: Int, $after: String) { suppliers(first: 1) { edges { node { incidents(first: $first, after: $after) { edges { cursor } } } } } }`,
      ],
      [
        'Client.contracts',
        `query($first: Int, $after: String) { clients(first: 1) { edges { node { contracts(first: $first, after: $after) { edges { cursor } } } } } }`,
      ],
      [
        'Client.exposures',
        `query($first: Int, $after: String) { clients(first: 1) { edges { node { exposures(first: $first, after: $after) { edges { cursor } } } } } }`,
      ],
      [
        'Incident.exposures',
        `query($first: Int, $after: String) { incidents(first: 1) { edges { node { exposures(first: $first, after: $after) { edges { cursor } } } } } }`,
      ],
    ];

    /** The list answers an error that says what is wrong, and no page: never a silently clamped one. */
    function expectPagingError(response: GraphQLResponse, message: RegExp) {
      expect(response.body.errors?.length).toBeGreaterThan(0);
      for (const error of response.body.errors!) {
        expect(error.message).toMatch(message);
        expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      }
      expect(JSON.stringify(response.body.data ?? null)).not.toContain('cursor');
    }

    // For the nested lists these also guard a crash: the child page was requested from its DataLoader before the
    // arguments were checked, and the loader's rejection went unhandled, which ends a Node process (here jest
    // reports it as a failure instead). Fixed in src/common/paging.ts (childConnection) and common/loaders.ts.
    it.each(lists)('%s: first 101 and first -1 are errors that say the range', async (_name, query) => {
      expectPagingError(
        await app.gql(app.adminToken, query, { first: 101 }),
        /`first` must be between 0 and 100, got 101/,
      );
      expectPagingError(
        await app.gql(app.adminToken, query, { first: -1 }),
        /`first` must be between 0 and 100, got -1/,
      );
      // The edges of the range are fine.
      expect(dataOf(await app.gql(app.adminToken, query, { first: 100 }))).toBeTruthy();
      expect(dataOf(await app.gql(app.adminToken, query, { first: 0 }))).toBeTruthy();
    });

    it.each(lists)('%s: a cursor that does not decode is an error that says so', async (name, query) => {
      const kind = name.replace(/^\w+\./, '');
      for (const after of [
        'garbage',
        'bm90IGpzb24',
        encodeCursor(kind, ['only one value']),
        encodeCursor(kind, [{}, []] as never),
        Buffer.from('["Supplier One", "00000000-0000-4000-8000-000000000000"]').toString('base64url'),
      ]) {
        expectPagingError(
          await app.gql(app.adminToken, query, { after }),
          /cursor .* is not valid for this list/,
        );
      }
    });

    // Cursors carry their list's kind: suppliers and clients both page by (name, id), so a clients cursor
    // used to decode for suppliers(after:) and silently answer a page positioned by a client's name.
    it('a cursor from another list is an error that names both lists, even when its values would fit', async () => {
      const clientCursor = dataOf(await app.gql(app.adminToken, `{ clients(first: 1) { edges { cursor } } }`))
        .clients.edges[0].cursor;
      expectPagingError(
        await app.gql(app.adminToken, lists[0][1], { after: clientCursor }),
        /^This cursor belongs to the clients list, not to suppliers: pass `after` a cursor that suppliers returned$/,
      );
      const supplierCursor = dataOf(
        await app.gql(app.adminToken, `{ suppliers(first: 1) { edges { cursor } } }`),
      ).suppliers.edges[0].cursor;
      for (const [name, query] of lists.filter(([listName]) => listName !== 'suppliers')) {
        const kind = name.replace(/^\w+\./, '');
        expectPagingError(
          await app.gql(app.adminToken, query, { after: supplierCursor }),
          new RegExp(`^This cursor belongs to the suppliers list, not to ${kind}`),
        );
      }
      // The same list nested under another parent keeps its kind: a Supplier.contracts cursor pages Client.contracts.
      const contractCursor = encodeCursor('contracts', ['A-REF', '00000000-0000-4000-8000-000000000000']);
      expect(dataOf(await app.gql(app.adminToken, lists[6][1], { after: contractCursor }))).toBeTruthy();
      expectPagingError(
        await app.gql(app.adminToken, lists[0][1], {
          after: encodeCursor('suppliers', ['Supplier One', 'not-a-uuid']),
        }),
        /cursor .* is not valid for this list/,
      );
    });
  });

  describe('in production', () => {
    let production: TestApp;
    beforeAll(async () => {
      // startTestApp uses its own database; production merely insists that DATABASE_URL is set.
      production = await startTestApp({ NODE_ENV: 'production', DATABASE_URL: 'postgres://unused' });
      await createSupplier(production.services, { name: 'Production Supplier' });
    });
    afterAll(() => production.stop());

    /** Makes every supplier query fail inside the database, as a broken deployment would, for the length of `work`. */
    async function withBrokenSupplierTable<T>(target: TestApp, work: () => Promise<T>): Promise<T> {
      // DDL: only the owner may (the API's role, target.database.db, owns nothing).
      await target.database.asOwner((owner) => owner.query(`ALTER TABLE supplier RENAME TO supplier_gone`));
      try {
        return await work();
      } finally {
        await target.database.asOwner((owner) => owner.query(`ALTER TABLE supplier_gone RENAME TO supplier`));
      }
    }
    const query = `{ suppliers { totalCount edges { node { name } } } }`;

    it('an internal error is masked: no SQL, no table names, no stack trace', async () => {
      const response = await withBrokenSupplierTable(production, () =>
        production.gql(production.adminToken, query),
      );
      expect(response.body.data ?? null).toBeNull();
      const error = onlyError(response);
      expect(error).toEqual({
        message: 'Internal server error',
        code: 'INTERNAL_SERVER_ERROR',
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
      });
      const text = JSON.stringify(response.body);
      for (const leak of [
        'supplier_gone',
        'relation',
        'SELECT',
        'QueryFailedError',
        'stacktrace',
        'node_modules',
        '.ts:',
        'at ',
      ])
        expect(text).not.toContain(leak);
      // The same fault outside production shows the database's words: the masking is what hides them.
      const development = await withBrokenSupplierTable(app, () => app.gql(app.adminToken, query));
      expect(JSON.stringify(development.body)).toMatch(/relation .*supplier.* does not exist/);
      // The database is fine again afterwards.
      expect(dataOf(await production.gql(production.adminToken, query)).suppliers.totalCount).toBe(1);
    });

    it('expected errors still say what is wrong: bad paging, authentication, userErrors', async () => {
      const paging = await production.gql(production.adminToken, `{ suppliers(first: 101) { totalCount } }`);
      expect(onlyError(paging)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(/`first` must be between 0 and 100/),
      });
      const anonymous = await production.gql(null, query);
      expect(anonymous.status).toBe(401);
      expect(onlyError(anonymous).code).toBe('UNAUTHENTICATED');
      const invalid = dataOf(
        await production.gql(production.adminToken, mutationText('createSupplier'), {
          input: supplierInput({ country: 'gb' }),
        }),
      );
      expect(invalid.result.userErrors).toEqual([
        { field: ['input', 'country'], code: 'INVALID', message: expect.stringMatching(/capitals/) },
      ]);
      const validation = await production.gql(production.adminToken, `{ suppliers { nonsense } }`);
      expect(validation.status).toBe(400);
      expect(onlyError(validation).code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(JSON.stringify(validation.body)).not.toContain('stacktrace');
    });
  });

  it('after all of the above, the register holds only what the tests meant to write', async () => {
    const fingerprint = await databaseFingerprint(app.database.db);
    expect(fingerprint.supplier.rows).toBe(4); // S1, S2, S3 and the LEI holder
    expect(fingerprint.contract.rows).toBe(3); // k1, k2 and client 2's K-1
    expect(fingerprint.data_processing_agreement.rows).toBe(2);
    expect(fingerprint.incident.rows).toBe(1);
    expect(fingerprint.notification_decision.rows).toBe(0);
  });
});
