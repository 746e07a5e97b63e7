import { DataSource, EntityManager } from 'typeorm';
import { RegisterChange } from './common/register-change';
import { AgreementService } from './modules/agreement/agreement.service';
import { ClientService } from './modules/client/client.service';
import { ContractService } from './modules/contract/contract.service';
import { ExposureEngine } from './modules/exposure/exposure.engine';
import { ExposureService } from './modules/exposure/exposure.service';
import { IncidentService } from './modules/incident/incident.service';
import { SupplierService } from './modules/supplier/supplier.service';
import { AuditService } from './modules/audit/audit.service';
import { ObligationService } from './modules/obligation/obligation.service';
import { WebhookService, WebhookServiceOptions } from './modules/webhook/webhook.service';

interface ServiceOptions {
  afterAlerts?: (manager: EntityManager, lastAlertId: string) => Promise<void>;
  /** URL rules and the secret overlap (webhookServiceOptions(config)); defaults suit development. */
  webhooks?: WebhookServiceOptions;
}

/**
 * The services, stateless apart from their DataSource. `forRequest` gives a request its own set over its
 * scoped DataSource (common/request-scope.ts), so what they run is counted for that request and audited
 * under its actor; used directly (seeds, tests, start-up), they run unscoped.
 */
export function createServices(db: DataSource, options: ServiceOptions = {}) {
  return {
    ...servicesOver(db, options),
    forRequest: (requestDb: DataSource) => servicesOver(requestDb, options),
  };
}

function servicesOver(db: DataSource, options: ServiceOptions) {
  const engine = new ExposureEngine(options.afterAlerts);
  const onRegisterChange = async (manager: EntityManager, change: RegisterChange) => {
    // A sub-processor link can move any client's exposure; a contract or agreement only its own client's.
    if (change.supplierIds?.length && !change.clientIds?.length && !change.contractIds?.length) {
      return engine.recomputeOpenIncidents(manager, null);
    }
    const clientIds = new Set(change.clientIds ?? []);
    if (change.contractIds?.length) {
      const rows: { client_id: string }[] = await manager.query(
        `SELECT DISTINCT client_id FROM contract WHERE id = ANY($1::uuid[])`,
        [change.contractIds],
      );
      rows.forEach((row) => clientIds.add(row.client_id));
    }
    return engine.recomputeOpenIncidents(manager, [...clientIds]);
  };
  return {
    engine,
    supplier: new SupplierService(db, onRegisterChange),
    client: new ClientService(db),
    contract: new ContractService(db, onRegisterChange),
    agreement: new AgreementService(db, onRegisterChange),
    incident: new IncidentService(
      db,
      async (manager, incidentIds, reason, correction) =>
        (await engine.recompute(manager, incidentIds, reason, null, correction ?? null)).changed,
    ),
    exposure: new ExposureService(db),
    obligation: new ObligationService(db, engine),
    audit: new AuditService(db),
    webhook: new WebhookService(db, options.webhooks),
  };
}

export type Services = ReturnType<typeof createServices>;
/** The services one request uses. */
export type RequestServices = ReturnType<typeof servicesOver>;
