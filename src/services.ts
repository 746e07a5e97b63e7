import { DataSource, EntityManager } from 'typeorm';
import { ConflictRetry, TransactionalConnection } from './db/transactional-connection';
import { AgreementService } from './modules/agreement/agreement.service';
import { AuditService } from './modules/audit/audit.service';
import { ClientService } from './modules/client/client.service';
import { ContractService } from './modules/contract/contract.service';
import { ExposureEngine } from './modules/exposure/exposure.engine';
import { ExposureService } from './modules/exposure/exposure.service';
import { IncidentService } from './modules/incident/incident.service';
import { SupplierService } from './modules/supplier/supplier.service';
import { ObligationService } from './modules/obligation/obligation.service';
import { ConcentrationService } from './modules/concentration/concentration.service';
import { ReportService } from './modules/report/report.service';
import { PictureService } from './modules/picture/picture.service';
import { WebhookService, WebhookServiceOptions } from './modules/webhook/webhook.service';
import { RegisterIoOptions, RegisterIoService } from './modules/register-io/register-io.service';

interface ServiceOptions {
  /** URL rules and the secret overlap (webhookServiceOptions(config)); defaults suit development. */
  webhooks?: WebhookServiceOptions;
  /** Import limits (registerIoOptions(config)); defaults suit development. */
  registerIo?: RegisterIoOptions;
  /** Plan nested connections into one statement (modules/nested-read); default on. */
  nestedReadPlanning?: boolean;
  /**
   * Runs of an opted-in mutation's transaction aborted by a deadlock or serialization failure
   * (DB_CONFLICT_ATTEMPTS) and the warn log of each retry; default 3 runs, not logged.
   */
  conflictRetry?: ConflictRetry;
}

/**
 * The services, stateless apart from their connection. `forRequest` gives a request its own set over its
 * scoped DataSource (common/request-scope.ts), so what they run is counted for that request and audited
 * under its actor; `within` gives a set inside a transaction already open (the demo seed's one transaction).
 * Used directly (seeds, tests, start-up), they run unscoped.
 *
 * The exposure engine is a dependency of every service whose writes change what it reads (incidents,
 * suppliers' links, contracts, agreements): it recomputes inside the write's own transaction and NOTIFYs
 * the alert hubs itself (docs/architecture.md follows the flow file by file).
 */
export function createServices(db: DataSource, options: ServiceOptions = {}) {
  const engine = new ExposureEngine();
  const connection = new TransactionalConnection(db, null, options.conflictRetry);
  return {
    ...servicesOver(connection, engine, options),
    nestedReadPlanning: options.nestedReadPlanning ?? true,
    forRequest: (requestDb: DataSource) => servicesOver(connection.over(requestDb), engine, options),
    within: (manager: EntityManager) => servicesOver(connection.within(manager), engine, options),
  };
}

function servicesOver(connection: TransactionalConnection, engine: ExposureEngine, options: ServiceOptions) {
  const obligation = new ObligationService(connection, engine);
  return {
    engine,
    supplier: new SupplierService(connection, engine),
    client: new ClientService(connection),
    contract: new ContractService(connection, engine),
    agreement: new AgreementService(connection, engine),
    incident: new IncidentService(connection, engine),
    exposure: new ExposureService(connection),
    obligation,
    report: new ReportService(connection, obligation),
    audit: new AuditService(connection),
    concentration: new ConcentrationService(connection),
    picture: new PictureService(connection),
    webhook: new WebhookService(connection, options.webhooks),
    registerIo: new RegisterIoService(connection, engine, options.registerIo),
  };
}

export type Services = ReturnType<typeof createServices>;
/** The services of one unit of work: a request, or one open transaction. */
export type RequestServices = ReturnType<typeof servicesOver>;
