import { DataSource, EntityManager } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { encodeGlobalId } from '../common/global-id';
import { UserInputProblem } from '../common/user-error';
import { RequestServices, Services } from '../services';
import {
  ClientKey,
  DEMO_CLIENTS,
  DEMO_CONTRACTS,
  DEMO_INCIDENTS,
  DEMO_SAMPLE_CLIENT,
  DEMO_SUPPLIERS,
  DEMO_SUPPLIER_LINKS,
  SupplierKey,
} from './demo-data';

/** Who writes the demo: an admin, so every write passes the same checks as through the API. */
export const DEMO_VIEWER: Viewer = { subject: 'demo-seed', role: 'admin', clientId: null };

/** Serialises two start-ups racing to seed the same database (the check-then-load must not run twice). */
const DEMO_LOCK_KEY = 7_331_002;

export interface DemoRegisterResult {
  /** A client whose token start-up prints; null when the register holds data that is not the demo's. */
  sampleClient: { id: string; name: string } | null;
}

/**
 * Loads the demo register (src/seed/demo-data.ts) into an empty register; does nothing otherwise.
 *
 * All or nothing, in ONE transaction. Each service opens its own transaction, so writing through the
 * `services` passed in would commit piece by piece, and a failure halfway would leave a register that is
 * neither empty (so the demo would never load again) nor complete. Instead the demo writes through
 * `services.within(manager)`: the very same services (same validation, same exposure engine) inside this
 * one transaction, where each service's own `transaction()` becomes a savepoint (db/transactional-connection.ts).
 * Exposures, revisions and alerts are computed exactly as for real data, and the engine's NOTIFY is
 * delivered only if the transaction commits; if anything fails, everything rolls back and the next start
 * tries again on a still-empty register.
 *
 * Idempotent: under an advisory lock, the demo loads only when no supplier and no client exists. On any
 * later start it writes nothing and only looks up the sample client, through the `services` passed in.
 */
export async function loadDemoRegister(
  db: DataSource,
  services: Services,
  say: (line: string) => void,
): Promise<DemoRegisterResult> {
  let loaded: DemoRegisterResult | null;
  try {
    loaded = await db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1)`, [DEMO_LOCK_KEY]);
      const [{ populated }] = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM supplier) OR EXISTS (SELECT 1 FROM client) AS populated`,
      );
      if (populated) return null;
      say(
        'Loading the demo register: the Capita incidents of 2023 (public figures; estimates are marked in src/seed/demo-data.ts)…',
      );
      return writeDemo(services.within(manager), manager, say);
    });
  } catch (error) {
    throw new Error(
      `the demo register could not be loaded, and none of it was written (its single transaction was rolled back; ` +
        `the next start tries again while the register is empty). ${describe(error)}`,
      { cause: error },
    );
  }
  if (loaded) return loaded;

  const sampleClient = await findSampleClient(services);
  say(
    `Register already holds data: demo not loaded${sampleClient ? '' : ' (its sample client is gone: no client token printed)'}.`,
  );
  return { sampleClient };
}

async function writeDemo(
  services: RequestServices,
  manager: EntityManager,
  say: (line: string) => void,
): Promise<DemoRegisterResult> {
  const supplierIds = {} as Record<SupplierKey, string>;
  const clientIds = {} as Record<ClientKey, string>;
  const supplierGid = (key: SupplierKey) => encodeGlobalId('Supplier', supplierIds[key]);

  for (const [key, supplier] of Object.entries(DEMO_SUPPLIERS) as [
    SupplierKey,
    (typeof DEMO_SUPPLIERS)[SupplierKey],
  ][]) {
    supplierIds[key] = (
      await step(`supplier ${supplier.name}`, () => services.supplier.create(DEMO_VIEWER, { ...supplier }))
    ).id;
  }
  for (const [from, to] of DEMO_SUPPLIER_LINKS) {
    await step(`sub-processor link ${DEMO_SUPPLIERS[from].name} -> ${DEMO_SUPPLIERS[to].name}`, () =>
      services.supplier.addSubprocessor(DEMO_VIEWER, {
        supplierId: supplierGid(from),
        subprocessorId: supplierGid(to),
      }),
    );
  }
  for (const [key, client] of Object.entries(DEMO_CLIENTS) as [
    ClientKey,
    (typeof DEMO_CLIENTS)[ClientKey],
  ][]) {
    clientIds[key] = (
      await step(`client ${client.name}`, () => services.client.create(DEMO_VIEWER, { ...client }))
    ).id;
  }
  say(
    `  ${Object.keys(supplierIds).length} suppliers (${DEMO_SUPPLIER_LINKS.length} supplier-level sub-processor link), ${Object.keys(clientIds).length} clients`,
  );

  let agreements = 0;
  for (const contract of DEMO_CONTRACTS) {
    const created = await step(`contract ${contract.reference}`, () =>
      services.contract.create(DEMO_VIEWER, {
        clientId: encodeGlobalId('Client', clientIds[contract.client]),
        supplierId: supplierGid(contract.supplier),
        reference: contract.reference,
        title: contract.title,
        value: contract.value,
        startsOn: contract.startsOn,
        endsOn: contract.endsOn,
        criticality: contract.criticality,
      }),
    );
    for (const agreement of contract.agreements) {
      await step(`agreement ${agreement.reference}`, () =>
        services.agreement.create(DEMO_VIEWER, {
          contractId: encodeGlobalId('Contract', created.id),
          reference: agreement.reference,
          dataCategories: agreement.dataCategories,
          dataSubjectCount: agreement.dataSubjectCount,
          processingLocations: agreement.processingLocations,
          dataRetainedUntil: agreement.dataRetainedUntil,
          subprocessorIds: agreement.subprocessors.map(supplierGid),
        }),
      );
      agreements += 1;
    }
  }
  say(`  ${DEMO_CONTRACTS.length} contracts with ${agreements} data processing agreements`);

  // Incidents last, as in life: the register exists, then something happens, then facts arrive.
  for (const incident of DEMO_INCIDENTS) {
    const supplierName = DEMO_SUPPLIERS[incident.supplier].name;
    const recorded = await step(`incident "${incident.facts.title}"`, () =>
      services.incident.record(DEMO_VIEWER, {
        supplierId: supplierGid(incident.supplier),
        ...incident.facts,
      }),
    );
    say(
      `  Incident at ${supplierName}: ${incident.facts.title} -> ${plural(recorded.exposuresChanged, 'exposure')} computed`,
    );
    for (const update of incident.updates) {
      const updated = await step(`update "${update.label}"`, () =>
        services.incident.update(DEMO_VIEWER, {
          id: encodeGlobalId('Incident', recorded.incident.id),
          ...update.changes,
        }),
      );
      say(`    then ${update.label} -> ${plural(updated.exposuresChanged, 'exposure')} changed`);
    }
    for (const notice of incident.clientNotices ?? []) {
      await step(`notice to ${DEMO_CLIENTS[notice.client].name}`, () =>
        services.obligation.recordClientNotice(DEMO_VIEWER, {
          incidentId: encodeGlobalId('Incident', recorded.incident.id),
          clientId: encodeGlobalId('Client', clientIds[notice.client]),
          noticeAt: notice.noticeAt,
          channel: notice.channel,
        }),
      );
    }
    if (incident.clientNotices?.length)
      say(`    ${plural(incident.clientNotices.length, 'client notice')} recorded (indirect clients)`);
  }

  const [{ open, critical, high }] = await manager.query(
    `SELECT count(*)::int AS open, count(*) FILTER (WHERE level = 'CRITICAL')::int AS critical, count(*) FILTER (WHERE level = 'HIGH')::int AS high
     FROM exposure WHERE resolved_at IS NULL`,
  );
  const sample = { id: clientIds[DEMO_SAMPLE_CLIENT], name: DEMO_CLIENTS[DEMO_SAMPLE_CLIENT].name };
  say(
    `Demo register loaded: ${DEMO_INCIDENTS.length} incidents, ${plural(open, 'open exposure')} (${critical} critical, ${high} high). Sample client: ${sample.name}.`,
  );
  return { sampleClient: sample };
}

/** On a later start: the demo's sample client, if it is still there. */
async function findSampleClient(services: Services): Promise<{ id: string; name: string } | null> {
  const name = DEMO_CLIENTS[DEMO_SAMPLE_CLIENT].name;
  const page = await services.client.list(DEMO_VIEWER, { search: name }, { first: 10 });
  const client = page.edges.map((edge) => edge.node).find((node) => node.name === name);
  return client ? { id: client.id, name: client.name } : null;
}

class DemoStepError extends Error {
  constructor(
    readonly label: string,
    readonly reason: unknown,
  ) {
    super(`${label}: ${describe(reason)}`);
  }
}

/** Runs one write; a failure names the demo item that caused it. */
async function step<T>(label: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw new DemoStepError(label, error);
  }
}

function describe(error: unknown): string {
  if (error instanceof DemoStepError) return `Failed at ${error.message}`;
  if (error instanceof UserInputProblem)
    return error.errors.map((e) => `${e.field?.join('.') ?? 'input'}: ${e.message} (${e.code})`).join('; ');
  return error instanceof Error ? error.message : String(error);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
