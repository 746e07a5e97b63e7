import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { encodeGlobalId } from '../../src/common/global-id';
import { DataCategory } from '../../src/common/enums';

/** Rule 10 through the API: each revision keeps the people, path and contracts the register believed then. */
describe('exposure history and asOf', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('answers what the register believed before an update, field by field', async () => {
    const council = await createClient(app.services, { name: 'Colchester City Council' });
    const capita = await createSupplier(app.services, { name: 'Capita plc' });
    const cloud = await createSupplier(app.services, { name: 'Cloud storage' });
    await linkSubprocessor(app.services, capita.id, cloud.id);
    const contract = await createContract(app.services, council.id, capita.id, { reference: 'REV-BEN' });
    await createAgreement(app.services, contract.id, {
      dataCategories: [DataCategory.FINANCIAL, DataCategory.CONTACT],
      dataSubjectCount: 40000,
    });
    await createAgreement(app.services, contract.id, {
      dataCategories: [DataCategory.HEALTH],
      dataSubjectCount: 900,
    });

    const recorded = dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { incident { id } } }`,
        {
          input: {
            supplierId: encodeGlobalId('Supplier', cloud.id),
            title: 'Bucket',
            kind: 'MISCONFIGURED_STORAGE',
            status: 'CONFIRMED',
            detectedAt: '2023-05-01T00:00:00Z',
            exfiltration: 'SUSPECTED',
          },
        },
      ),
    );
    const incidentId = recorded.recordIncident.incident.id;
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    dataOf(
      await app.gql(
        app.analystToken,
        `mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) { exposuresChanged } }`,
        {
          input: { id: incidentId, dataCategoriesAffected: ['FINANCIAL'] },
        },
      ),
    );

    const read = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!, $at: DateTime!) { node(id: $id) { ... on Incident { exposures { edges { node {
      dataSubjectsAtRisk revision
      history { revision dataSubjectsAtRisk dataCategoriesAtRisk path { name } contracts { reference } }
      asOf(at: $at) { revision dataSubjectsAtRisk dataCategoriesAtRisk path { name } contracts { reference } notification { status } }
    } } } } } }`,
        { id: incidentId, at: between.toISOString() },
      ),
    );
    const exposure = read.node.exposures.edges[0].node;
    expect(exposure.dataSubjectsAtRisk).toBe(40000);
    expect(exposure.history).toEqual([
      {
        revision: 1,
        dataSubjectsAtRisk: 40900,
        dataCategoriesAtRisk: ['CONTACT', 'FINANCIAL', 'HEALTH'],
        path: [{ name: 'Capita plc' }, { name: 'Cloud storage' }],
        contracts: [{ reference: 'REV-BEN' }],
      },
      {
        revision: 2,
        dataSubjectsAtRisk: 40000,
        dataCategoriesAtRisk: ['FINANCIAL'],
        path: [{ name: 'Capita plc' }, { name: 'Cloud storage' }],
        contracts: [{ reference: 'REV-BEN' }],
      },
    ]);
    expect(exposure.asOf).toEqual({
      revision: 1,
      dataSubjectsAtRisk: 40900,
      dataCategoriesAtRisk: ['CONTACT', 'FINANCIAL', 'HEALTH'],
      path: [{ name: 'Capita plc' }, { name: 'Cloud storage' }],
      contracts: [{ reference: 'REV-BEN' }],
      notification: { status: 'ASSESSING' },
    });
  });
});
