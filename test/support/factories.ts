import { RegulatoryRegime } from '../../src/modules/obligation/regimes';
import { Viewer } from '../../src/auth/viewer';
import {
  DataCategory,
  ExfiltrationStatus,
  IncidentKind,
  IncidentStatus,
  ServiceCriticality,
  ClientSector,
  SupplierTier,
} from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { RequestServices as Services } from '../../src/services';

/**
 * Factories build test data through the services (the same rules, transactions and exposure hooks as
 * the API) as an admin, skipping only HTTP. Every field has a default; pass overrides for what a test is about.
 */
export const FACTORY_ADMIN: Viewer = { subject: 'factory', role: 'admin', clientId: null };

let sequence = 0;
const next = () => ++sequence;

export async function createSupplier(
  services: Services,
  overrides: Partial<{
    name: string;
    country: string;
    tier: SupplierTier;
    strategic: boolean;
    lei: string | null;
    companyNumber: string | null;
  }> = {},
) {
  return services.supplier.create(FACTORY_ADMIN, {
    name: `Supplier ${next()}`,
    country: 'GB',
    tier: SupplierTier.STANDARD,
    strategic: false,
    ...overrides,
  });
}

export async function createClient(
  services: Services,
  overrides: Partial<{
    name: string;
    sector: ClientSector;
    country: string;
    regimes: RegulatoryRegime[];
    reference: string;
  }> = {},
) {
  return services.client.create(FACTORY_ADMIN, {
    name: `Client ${next()}`,
    sector: ClientSector.LOCAL_GOVERNMENT,
    ...overrides,
  });
}

export async function createContract(
  services: Services,
  clientId: string,
  supplierId: string,
  overrides: Partial<{
    reference: string;
    title: string;
    startsOn: string;
    endsOn: string | null;
    criticality: ServiceCriticality;
    value: { amount: string; currency: string } | null;
  }> = {},
) {
  return services.contract.create(FACTORY_ADMIN, {
    clientId: encodeGlobalId('Client', clientId),
    supplierId: encodeGlobalId('Supplier', supplierId),
    reference: `C-${next()}`,
    title: 'Managed service',
    startsOn: '2020-01-01',
    endsOn: null,
    criticality: ServiceCriticality.IMPORTANT,
    value: null,
    ...overrides,
  });
}

export async function createAgreement(
  services: Services,
  contractId: string,
  overrides: Partial<{
    reference: string;
    dataCategories: DataCategory[];
    dataSubjectCount: number;
    processingLocations: string[];
    dataRetainedUntil: string | null;
    subprocessorIds: string[];
  }> = {},
) {
  return services.agreement.create(FACTORY_ADMIN, {
    contractId: encodeGlobalId('Contract', contractId),
    reference: `DPA-${next()}`,
    dataCategories: [DataCategory.BASIC_IDENTITY, DataCategory.CONTACT],
    dataSubjectCount: 1000,
    processingLocations: ['GB'],
    dataRetainedUntil: null,
    ...overrides,
    subprocessorIds: (overrides.subprocessorIds ?? []).map((id) => encodeGlobalId('Supplier', id)),
  });
}

export async function linkSubprocessor(services: Services, supplierId: string, subprocessorId: string) {
  return services.supplier.addSubprocessor(FACTORY_ADMIN, {
    supplierId: encodeGlobalId('Supplier', supplierId),
    subprocessorId: encodeGlobalId('Supplier', subprocessorId),
  });
}

export async function recordIncident(
  services: Services,
  supplierId: string,
  overrides: Partial<{
    title: string;
    kind: IncidentKind;
    status: IncidentStatus;
    startedAt: Date | null;
    detectedAt: Date;
    containedAt: Date | null;
    clientsNotifiedAt: Date | null;
    dataCategoriesAffected: DataCategory[] | null;
    exfiltration: ExfiltrationStatus;
    shareOfDataAffected: number | null;
  }> = {},
) {
  return services.incident.record(FACTORY_ADMIN, {
    supplierId: encodeGlobalId('Supplier', supplierId),
    title: `Incident ${next()}`,
    kind: IncidentKind.CYBER_ATTACK,
    status: IncidentStatus.CONFIRMED,
    startedAt: new Date('2023-03-22T00:00:00Z'),
    detectedAt: new Date('2023-03-31T00:00:00Z'),
    containedAt: null,
    clientsNotifiedAt: null,
    dataCategoriesAffected: null,
    exfiltration: ExfiltrationStatus.SUSPECTED,
    ...overrides,
  });
}
