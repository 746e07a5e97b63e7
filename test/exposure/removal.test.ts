/**
 * Rule 10 (design/domain.md; issue 11 item 2): removing a supplier, contract or agreement archives it. It leaves
 * lists, node(), counts and future computations, and carries removedAt; the records that refer to it (an
 * exposure's path and contracts, every revision in history, asOf) still show it as it was. Through GraphQL.
 */
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { MUTATIONS, MutationName } from '../support/mutations';

const gid = {
  supplier: (id: string) => encodeGlobalId('Supplier', id),
  client: (id: string) => encodeGlobalId('Client', id),
  contract: (id: string) => encodeGlobalId('Contract', id),
  agreement: (id: string) => encodeGlobalId('DataProcessingAgreement', id),
};

const RECORD = `id path { id name removedAt } contracts { id reference title removedAt dataProcessingAgreements { reference removedAt } }`;
const EXPOSURE = `id score resolvedAt revision ${RECORD}
  history { revision score resolvedAt reason ${RECORD.replace(/^id /, '')} }`;

interface Recorded {
  path: { id: string; name: string; removedAt: string | null }[];
  contracts: {
    id: string;
    reference: string;
    title: string;
    removedAt: string | null;
    dataProcessingAgreements: { reference: string; removedAt: string | null }[];
  }[];
}
interface Exposure extends Recorded {
  id: string;
  score: number;
  resolvedAt: string | null;
  revision: number;
  history: (Recorded & {
    revision: number;
    score: number;
    resolvedAt: string | null;
    reason: string | null;
  })[];
}

describe('removal archives: records keep showing what was removed', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  async function mutate(name: MutationName, input: Record<string, unknown>) {
    const [inputType, object] = MUTATIONS[name];
    return dataOf(
      await app.gql(
        app.adminToken,
        `mutation($input: ${inputType}!) { result: ${name}(input: $input) { ${object} userErrors { field code message } } }`,
        { input },
      ),
    ).result;
  }
  async function mustSucceed(name: MutationName, input: Record<string, unknown>) {
    const result = await mutate(name, input);
    expect({ name, userErrors: result.userErrors }).toEqual({ name, userErrors: [] });
    return result;
  }
  async function recordIncident(supplierId: string, input: Record<string, unknown> = {}) {
    const response = await app.gql(
      app.analystToken,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { userErrors { field code message } incident { id exposures { edges { node { id } } } } } }`,
      {
        input: {
          supplierId: gid.supplier(supplierId),
          title: 'Breach at S',
          kind: 'CYBER_ATTACK',
          status: 'CONFIRMED',
          startedAt: '2023-03-22T00:00:00Z',
          detectedAt: '2023-03-31T00:00:00Z',
          exfiltration: 'NONE_FOUND',
          ...input,
        },
      },
    );
    const payload = dataOf(response).recordIncident;
    expect(payload.userErrors).toEqual([]);
    return {
      id: payload.incident.id as string,
      exposureIds: payload.incident.exposures.edges.map(
        (e: { node: { id: string } }) => e.node.id,
      ) as string[],
    };
  }
  async function exposure(id: string, token = app.analystToken): Promise<Exposure> {
    return dataOf(
      await app.gql(token, `query($id: ID!) { node(id: $id) { ... on Exposure { ${EXPOSURE} } } }`, { id }),
    ).node;
  }
  async function asOf(id: string, at: string): Promise<Recorded & { revision: number }> {
    return dataOf(
      await app.gql(
        app.analystToken,
        `query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Exposure { asOf(at: $at) { revision ${RECORD.replace(/^id /, '')} } } } }`,
        { id, at },
      ),
    ).node.asOf;
  }
  const node = async (id: string) =>
    dataOf(await app.gql(app.adminToken, `query($id: ID!) { node(id: $id) { id } }`, { id })).node;

  it("the issue's reproduction: contract, link and supplier removed, the path [X, S] and the contract stay in every record", async () => {
    const x = (await createSupplier(app.services, { name: 'X Processing Ltd', companyNumber: '01234567' }))
      .id;
    const s = (await createSupplier(app.services, { name: 'S Hosting Ltd' })).id;
    const k = (await createClient(app.services, { name: 'K Council' })).id;
    const c = (
      await createContract(app.services, k, x, {
        reference: 'K-001',
        title: 'Care records',
        criticality: ServiceCriticality.CRITICAL,
      })
    ).id;
    await createAgreement(app.services, c, {
      reference: 'DPA-K-001',
      dataCategories: [DataCategory.HEALTH],
      dataSubjectCount: 20_000,
    });
    await linkSubprocessor(app.services, x, s);
    const incident = await recordIncident(s);
    expect(incident.exposureIds).toHaveLength(1);
    const [exposureId] = incident.exposureIds;
    const believed = await exposure(exposureId);
    const wasPath = [
      { id: gid.supplier(x), name: 'X Processing Ltd' },
      { id: gid.supplier(s), name: 'S Hosting Ltd' },
    ];
    const wasContracts = [{ id: gid.contract(c), reference: 'K-001', title: 'Care records' }];
    expect(believed.path).toEqual(wasPath.map((p) => ({ ...p, removedAt: null })));
    expect(believed.contracts).toEqual(
      wasContracts.map((p) => ({
        ...p,
        removedAt: null,
        dataProcessingAgreements: [{ reference: 'DPA-K-001', removedAt: null }],
      })),
    );
    const beforeRemoval = new Date().toISOString();

    await mustSucceed('removeContract', { id: gid.contract(c) });
    await mustSucceed('removeSubprocessor', { supplierId: gid.supplier(x), subprocessorId: gid.supplier(s) });
    const removedSupplier = await mustSucceed('removeSupplier', { id: gid.supplier(x) });
    expect(removedSupplier.removedId).toBe(gid.supplier(x));

    const after = await exposure(exposureId);
    // The contract's removal resolved the exposure (revision 2); nothing after it changed what it says.
    expect(after.resolvedAt).not.toBeNull();
    expect(after.revision).toBe(2);
    expect(after.score).toBe(believed.score);
    const paths = [after.path, ...after.history.map((r) => r.path)];
    for (const path of paths) expect(path.map(({ id, name }) => ({ id, name }))).toEqual(wasPath);
    const contractLists = [after.contracts, ...after.history.map((r) => r.contracts)];
    for (const contracts of contractLists)
      expect(contracts.map(({ id, reference, title }) => ({ id, reference, title }))).toEqual(wasContracts);
    // As they were, with when they left the register: X and C are archived, S is still in it.
    const [xShown, sShown] = after.path;
    expect(xShown.removedAt).not.toBeNull();
    expect(sShown.removedAt).toBeNull();
    const [cShown] = after.contracts;
    expect(cShown.removedAt).not.toBeNull();
    // The contract lists the agreement it had, archived with it.
    expect(cShown.dataProcessingAgreements).toEqual([
      { reference: 'DPA-K-001', removedAt: cShown.removedAt },
    ]);
    expect(after.history.map((r) => [r.revision, r.reason])).toEqual([
      [1, 'INCIDENT_RECORDED'],
      [2, 'REGISTER_CHANGED'],
    ]);
    const then = await asOf(exposureId, beforeRemoval);
    expect(then.revision).toBe(1);
    expect(then.path.map(({ id, name }) => ({ id, name }))).toEqual(wasPath);
    expect(then.contracts.map(({ id, reference, title }) => ({ id, reference, title }))).toEqual(
      wasContracts,
    );
    // The client sees its record the same way.
    const asClient = await exposure(exposureId, await app.clientToken(k));
    expect(asClient.path.map((p) => p.id)).toEqual(wasPath.map((p) => p.id));
    expect(asClient.contracts.map((p) => p.id)).toEqual([gid.contract(c)]);

    // Out of the register: node(), lists, filters and counts.
    const [agreementRow] = await app.database.db.query(
      `SELECT id FROM data_processing_agreement WHERE contract_id = $1`,
      [c],
    );
    expect(await node(gid.supplier(x))).toBeNull();
    expect(await node(gid.contract(c))).toBeNull();
    expect(await node(gid.agreement(agreementRow.id))).toBeNull();
    const lists = dataOf(
      await app.gql(
        app.adminToken,
        `query($k: ID!) {
      all: suppliers(first: 100) { edges { node { id } } }
      named: suppliers(filter: { search: "X Processing" }) { totalCount }
      client: node(id: $k) { ... on Client { contracts { totalCount edges { node { id } } } } }
    }`,
        { k: gid.client(k) },
      ),
    );
    expect(lists.all.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(gid.supplier(x));
    expect(lists.all.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(gid.supplier(s));
    expect(lists.named.totalCount).toBe(0);
    expect(lists.client.contracts).toEqual({ totalCount: 0, edges: [] });
    // The rows are still there, archived.
    const rows = await app.database.db.query(
      `SELECT (SELECT removed_at IS NOT NULL FROM supplier WHERE id = $1) AS x, (SELECT removed_at IS NOT NULL FROM contract WHERE id = $2) AS c`,
      [x, c],
    );
    expect(rows).toEqual([{ x: true, c: true }]);

    // An archived object cannot be changed or used, and answers like a missing one.
    const notFound = (field: string) => [
      { field: ['input', field], code: 'NOT_FOUND', message: expect.any(String) },
    ];
    expect((await mutate('updateSupplier', { id: gid.supplier(x), name: 'Back again' })).userErrors).toEqual(
      notFound('id'),
    );
    expect((await mutate('removeSupplier', { id: gid.supplier(x) })).userErrors).toEqual(notFound('id'));
    expect((await mutate('removeContract', { id: gid.contract(c) })).userErrors).toEqual(notFound('id'));
    expect((await mutate('updateContract', { id: gid.contract(c), title: 'Renamed' })).userErrors).toEqual(
      notFound('id'),
    );
    expect(
      (await mutate('removeDataProcessingAgreement', { id: gid.agreement(agreementRow.id) })).userErrors,
    ).toEqual(notFound('id'));
    expect(
      (
        await mutate('createDataProcessingAgreement', {
          contractId: gid.contract(c),
          reference: 'DPA-2',
          dataCategories: ['CONTACT'],
          dataSubjectCount: 1,
          processingLocations: ['GB'],
        })
      ).userErrors,
    ).toEqual(notFound('contractId'));
    expect(
      (
        await mutate('createContract', {
          clientId: gid.client(k),
          supplierId: gid.supplier(x),
          reference: 'K-002',
          title: 'T',
          startsOn: '2024-01-01',
          criticality: 'STANDARD',
        })
      ).userErrors,
    ).toEqual(notFound('supplierId'));
    expect(
      (await mutate('addSubprocessor', { supplierId: gid.supplier(s), subprocessorId: gid.supplier(x) }))
        .userErrors,
    ).toEqual(notFound('subprocessorId'));
    expect(
      (
        await mutate('createDataProcessingAgreement', {
          contractId: gid.contract((await createContract(app.services, k, s)).id),
          reference: 'DPA-3',
          dataCategories: ['CONTACT'],
          dataSubjectCount: 1,
          processingLocations: ['GB'],
          subprocessorIds: [gid.supplier(x)],
        })
      ).userErrors,
    ).toEqual([{ field: ['input', 'subprocessorIds', '0'], code: 'NOT_FOUND', message: expect.any(String) }]);
    const atX = await app.gql(
      app.analystToken,
      `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { userErrors { field code } } }`,
      {
        input: {
          supplierId: gid.supplier(x),
          title: 'T',
          kind: 'OTHER',
          status: 'SUSPECTED',
          detectedAt: '2024-01-01T00:00:00Z',
          exfiltration: 'NONE_FOUND',
        },
      },
    );
    expect(dataOf(atX).recordIncident.userErrors).toEqual([
      { field: ['input', 'supplierId'], code: 'NOT_FOUND' },
    ]);

    // Uniqueness is about the register: the archived contract's reference and supplier's company number may be used again.
    await mustSucceed('createContract', {
      clientId: gid.client(k),
      supplierId: gid.supplier(s),
      reference: 'K-001',
      title: 'Care records again',
      startsOn: '2024-01-01',
      criticality: 'STANDARD',
    });
    await mustSucceed('createSupplier', {
      name: 'X Processing Ltd',
      companyNumber: '01234567',
      country: 'GB',
      tier: 'STANDARD',
    });
    // K's new contracts with S (the incident is still open) bring the exposure back in a new revision, directly at S;
    // the earlier revisions still name the archived contract, not the new one with its reference, and X.
    const back = await exposure(exposureId);
    expect(back.resolvedAt).toBeNull();
    expect(back.path.map((p) => p.id)).toEqual([gid.supplier(s)]);
    expect(
      back.history.slice(0, 2).map((r) => [r.path.map((p) => p.id), r.contracts.map((ct) => ct.id)]),
    ).toEqual([
      [[gid.supplier(x), gid.supplier(s)], [gid.contract(c)]],
      [[gid.supplier(x), gid.supplier(s)], [gid.contract(c)]],
    ]);
  });

  it('a CLOSED incident keeps its open exposure, and that exposure still shows a contract removed after closing', async () => {
    const s = (await createSupplier(app.services)).id;
    const k = (await createClient(app.services)).id;
    const c = (await createContract(app.services, k, s, { reference: 'CL-1', title: 'Payroll' })).id;
    await createAgreement(app.services, c, {
      dataCategories: [DataCategory.FINANCIAL],
      dataSubjectCount: 500,
    });
    const incident = await recordIncident(s);
    const closed = dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { exposuresChanged userErrors { field } } }`,
        { input: { id: incident.id, status: 'CLOSED' } },
      ),
    ).updateIncident;
    expect(closed).toEqual({ exposuresChanged: 0, userErrors: [] });

    await mustSucceed('removeContract', { id: gid.contract(c) });
    const after = await exposure(incident.exposureIds[0]);
    // Not recomputed (rule 11): still open, revision 1, and it shows the contract it ran through.
    expect(after.resolvedAt).toBeNull();
    expect(after.revision).toBe(1);
    expect(after.contracts.map(({ id, reference, title }) => ({ id, reference, title }))).toEqual([
      { id: gid.contract(c), reference: 'CL-1', title: 'Payroll' },
    ]);
    expect(after.contracts[0].removedAt).not.toBeNull();
    expect(after.history.map((r) => r.contracts.map((ct) => ct.id))).toEqual([[gid.contract(c)]]);
  });

  it('an agreement removed on its own leaves the exposure computation and its contract, and its reference is free again', async () => {
    const s = (await createSupplier(app.services)).id;
    const k = (await createClient(app.services)).id;
    const c = (await createContract(app.services, k, s)).id;
    const kept = (
      await createAgreement(app.services, c, {
        reference: 'KEEP',
        dataCategories: [DataCategory.CONTACT],
        dataSubjectCount: 10,
      })
    ).id;
    const goes = (
      await createAgreement(app.services, c, {
        reference: 'GOES',
        dataCategories: [DataCategory.HEALTH],
        dataSubjectCount: 50_000,
      })
    ).id;
    const incident = await recordIncident(s);
    const query = `query($id: ID!, $c: ID!) {
      e: node(id: $id) { ... on Exposure { revision dataCategoriesAtRisk dataSubjectsAtRisk history { reason } } }
      c: node(id: $c) { ... on Contract { dataProcessingAgreements { id } } } }`;
    const variables = { id: incident.exposureIds[0], c: gid.contract(c) };
    expect(dataOf(await app.gql(app.analystToken, query, variables)).e).toMatchObject({
      dataCategoriesAtRisk: ['CONTACT', 'HEALTH'],
      dataSubjectsAtRisk: 50_010,
    });

    await mustSucceed('removeDataProcessingAgreement', { id: gid.agreement(goes) });
    const after = dataOf(await app.gql(app.analystToken, query, variables));
    expect(after.e).toEqual({
      revision: 2,
      dataCategoriesAtRisk: ['CONTACT'],
      dataSubjectsAtRisk: 10,
      history: [{ reason: 'INCIDENT_RECORDED' }, { reason: 'REGISTER_CHANGED' }],
    });
    expect(after.c.dataProcessingAgreements).toEqual([{ id: gid.agreement(kept) }]);
    expect(await node(gid.agreement(goes))).toBeNull();
    await mustSucceed('createDataProcessingAgreement', {
      contractId: gid.contract(c),
      reference: 'GOES',
      dataCategories: ['CONTACT'],
      dataSubjectCount: 1,
      processingLocations: ['GB'],
    });
  });

  it("a write racing a supplier's removal waits for it, then finds the supplier gone: no contract, link or incident at an archived supplier", async () => {
    const s = (await createSupplier(app.services)).id;
    const other = (await createSupplier(app.services)).id;
    const k = (await createClient(app.services)).id;
    // The first half of removeSupplier, held open: the supplier row locked FOR UPDATE and archived, not yet committed.
    const runner = app.database.db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`SELECT id FROM supplier WHERE id = $1 FOR UPDATE`, [s]);
    await runner.query(`UPDATE supplier SET removed_at = now() WHERE id = $1`, [s]);
    const writes = Promise.all([
      mutate('createContract', {
        clientId: gid.client(k),
        supplierId: gid.supplier(s),
        reference: 'RACE-1',
        title: 'T',
        startsOn: '2024-01-01',
        criticality: 'STANDARD',
      }),
      mutate('addSubprocessor', { supplierId: gid.supplier(other), subprocessorId: gid.supplier(s) }),
      app
        .gql(
          app.analystToken,
          `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { userErrors { field code } } }`,
          {
            input: {
              supplierId: gid.supplier(s),
              title: 'T',
              kind: 'OTHER',
              status: 'SUSPECTED',
              detectedAt: '2024-01-01T00:00:00Z',
              exfiltration: 'NONE_FOUND',
            },
          },
        )
        .then((response) => dataOf(response).recordIncident),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await runner.commitTransaction();
    await runner.release();
    const [contract, link, incident] = await writes;
    expect(contract.userErrors).toEqual([
      { field: ['input', 'supplierId'], code: 'NOT_FOUND', message: expect.any(String) },
    ]);
    expect(link.userErrors).toEqual([
      { field: ['input', 'subprocessorId'], code: 'NOT_FOUND', message: expect.any(String) },
    ]);
    expect(incident.userErrors).toEqual([{ field: ['input', 'supplierId'], code: 'NOT_FOUND' }]);
    const [left] = await app.database.db.query(
      `SELECT (SELECT count(*) FROM contract WHERE supplier_id = $1)::int AS contracts, (SELECT count(*) FROM supplier_subprocessor WHERE subprocessor_id = $1)::int AS links,
              (SELECT count(*) FROM incident WHERE supplier_id = $1)::int AS incidents`,
      [s],
    );
    expect(left).toEqual({ contracts: 0, links: 0, incidents: 0 });
  });

  it('removeSupplier: refused while contracts, an open incident or an agreement-level link depend on it; allowed once they are gone or CLOSED', async () => {
    const s = (await createSupplier(app.services)).id;
    const sub = (await createSupplier(app.services)).id;
    const k = (await createClient(app.services)).id;
    const c = (await createContract(app.services, k, s)).id;
    const a = (await createAgreement(app.services, c, { subprocessorIds: [sub] })).id;
    const incident = await recordIncident(sub);
    const refused = async (id: string, because: RegExp) => {
      const result = await mutate('removeSupplier', { id });
      expect(result.removedId).toBeNull();
      expect(result.userErrors).toEqual([
        { field: ['input', 'id'], code: 'CONFLICT', message: expect.stringMatching(because) },
      ]);
    };
    await refused(gid.supplier(s), /still has contracts/);
    await refused(gid.supplier(sub), /incident that is not CLOSED[\s\S]*rely on it as a sub-processor/);
    await mustSucceed('removeDataProcessingAgreement', { id: gid.agreement(a) });
    await refused(gid.supplier(sub), /incident that is not CLOSED/);
    dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { userErrors { field } } }`,
        { input: { id: incident.id, status: 'CLOSED' } },
      ),
    );
    await mustSucceed('removeSupplier', { id: gid.supplier(sub) });
    // The incident stays, and still names its (archived) supplier.
    const shown = dataOf(
      await app.gql(
        app.analystToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { supplier { id removedAt } } } }`,
        { id: incident.id },
      ),
    ).node;
    expect(shown.supplier.id).toBe(gid.supplier(sub));
    expect(shown.supplier.removedAt).not.toBeNull();
    // It stays CLOSED: an incident that is not CLOSED needs its supplier in the register, so reopening it is
    // refused, saying why and what to do; its title may still change.
    const update = async (input: Record<string, unknown>) =>
      dataOf(
        await app.gql(
          app.analystToken,
          `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { incident { title status } userErrors { field code message } } }`,
          { input: { id: incident.id, ...input } },
        ),
      ).updateIncident;
    expect(await update({ status: 'CONFIRMED' })).toEqual({
      incident: null,
      userErrors: [
        {
          field: ['input', 'status'],
          code: 'CONFLICT',
          message: expect.stringMatching(
            /supplier was removed from the register, so the incident cannot be reopened: it stays CLOSED[\s\S]*record a new incident/,
          ),
        },
      ],
    });
    expect(await update({ title: 'Renamed after removal' })).toEqual({
      incident: { title: 'Renamed after removal', status: 'CLOSED' },
      userErrors: [],
    });
    // A client whose only contract is archived stays: the record names it.
    await mustSucceed('removeContract', { id: gid.contract(c) });
    const client = await mutate('removeClient', { id: gid.client(k) });
    expect(client.userErrors).toEqual([
      {
        field: ['input', 'id'],
        code: 'CONFLICT',
        message: expect.stringMatching(/removed contracts are kept/),
      },
    ]);
    await mustSucceed('removeSupplier', { id: gid.supplier(s) });
  });
});
