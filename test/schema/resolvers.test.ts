import { getMetadataStorage } from 'type-graphql';
import { fieldsCalledDirectly } from '../../src/schema';
import { testSchema } from '../support/app';

/**
 * What src/schema.ts does to type-graphql's resolvers, pinned. A field resolver that takes only @Root
 * (and @Ctx) is called directly, past type-graphql's wrapper; adding or changing one changes this list,
 * which is then reviewed here on purpose (it is not a snapshot that rewrites itself).
 */
const CALLED_DIRECTLY = [
  'AuditEvent.actorClientId',
  'AuditEvent.recordGlobalId',
  'Client.id',
  'Client.regimes',
  'Contract.client',
  'Contract.dataProcessingAgreements',
  'Contract.id',
  'Contract.supplier',
  'Contract.value',
  'DataProcessingAgreement.contract',
  'DataProcessingAgreement.id',
  'DataProcessingAgreement.subprocessors',
  'Exposure.client',
  'Exposure.contracts',
  'Exposure.dataSubjectsAtRisk',
  'Exposure.dataSubjectsAtRiskRange',
  'Exposure.decisions',
  'Exposure.factors',
  'Exposure.history',
  'Exposure.icoReportDraft',
  'Exposure.id',
  'Exposure.incident',
  'Exposure.nextDueAt',
  'Exposure.notification',
  'Exposure.obligations',
  'Exposure.path',
  'ExposureAlert.reason',
  'ExposureAsOf.contracts',
  'ExposureAsOf.dataSubjectsAtRisk',
  'ExposureAsOf.dataSubjectsAtRiskRange',
  'ExposureAsOf.path',
  'ExposureRevision.contracts',
  'ExposureRevision.dataSubjectsAtRisk',
  'ExposureRevision.dataSubjectsAtRiskRange',
  'ExposureRevision.path',
  'Incident.exposureMapUrl',
  'Incident.exposureSummary',
  'Incident.id',
  'Incident.shareOfDataAffected',
  'Incident.supplier',
  'SimulatedExposure.client',
  'SimulatedExposure.contracts',
  'SimulatedExposure.dataSubjectsAtRisk',
  'SimulatedExposure.dataSubjectsAtRiskRange',
  'SimulatedExposure.obligations',
  'SimulatedExposure.path',
  'Supplier.chainPictureUrl',
  'Supplier.id',
  'Supplier.subprocessors',
  'Viewer.client',
  'WebhookEndpoint.client',
  'WebhookEndpoint.id',
  'WebhookEndpoint.oldestUndeliveredAlertAt',
];

describe('resolvers as src/schema.ts wires them', () => {
  it('calls exactly the listed field resolvers directly', async () => {
    expect(fieldsCalledDirectly(await testSchema())).toEqual(CALLED_DIRECTLY);
  });

  it('reads plain fields directly on every object type (@ObjectType({ simpleResolvers: true }))', async () => {
    await testSchema();
    const objectTypes = getMetadataStorage().objectTypes;
    expect(objectTypes.length).toBeGreaterThan(20);
    expect(objectTypes.filter((type) => type.simpleResolvers !== true).map((type) => type.name)).toEqual([]);
  });
});
