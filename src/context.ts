import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { RequestServices, Services } from './services';
import { RequestScope, scopedDataSource } from './common/request-scope';
import { createSupplierLoaders } from './modules/supplier/supplier.loaders';
import { createClientLoaders } from './modules/client/client.loaders';
import { createContractLoaders } from './modules/contract/contract.loaders';
import { createAgreementLoaders } from './modules/agreement/agreement.loaders';
import { createIncidentLoaders } from './modules/incident/incident.loaders';
import { createExposureLoaders } from './modules/exposure/exposure.loaders';
import { createObligationLoaders } from './modules/obligation/obligation.loaders';
import { createWebhookLoaders } from './modules/webhook/webhook.loaders';
import { createNestedReadLoaders } from './modules/nested-read/nested-read.loaders';

/** Fresh for every request (and every subscription event): DataLoaders are never shared between viewers. */
export function createLoaders(db: DataSource, viewer: Viewer, nestedReadPlanning = true) {
  const loaders = {
    ...createSupplierLoaders(db),
    ...createClientLoaders(db, viewer),
    ...createContractLoaders(db, viewer),
    ...createAgreementLoaders(db, viewer),
    ...createIncidentLoaders(db, viewer),
    ...createExposureLoaders(db, viewer),
    ...createObligationLoaders(db),
    ...createWebhookLoaders(db, viewer),
  };
  // The nested-read planner reads whole nested selections in one statement (modules/nested-read).
  return { ...loaders, ...createNestedReadLoaders(db, viewer, nestedReadPlanning) };
}

export type Loaders = ReturnType<typeof createLoaders>;

export interface Context {
  requestId: string;
  viewer: Viewer;
  /** This request's SQL statement count and, for a mutation, its audit actor; its queries carry it. */
  scope: RequestScope;
  loaders: Loaders;
  services: RequestServices;
  /** Present on WebSocket connections: what the exposureAlerts subscription reads from. */
  alerts?: {
    db: DataSource;
    hub: import('./modules/alert/alert.hub').AlertHub;
    maxQueue: number;
    observeLatency?: (seconds: number) => void;
  };
  /** Replaces the loaders with empty ones: a subscription does this before each event so nothing stale is served. */
  renewLoaders(): void;
}

export function createContext(
  db: DataSource,
  services: Services,
  viewer: Viewer,
  requestId: string = randomUUID(),
): Context {
  const scope: RequestScope = { sqlStatements: 0 };
  const requestDb = scopedDataSource(db, scope);
  let requestServices: RequestServices | undefined;
  let loaders: Loaders | undefined;
  return {
    requestId,
    viewer,
    scope,
    // Both made when first used: most reads never touch a service, and an alert delivered to a subscriber
    // that selects only plain fields needs no loader (renewLoaders runs before each of its events).
    get loaders() {
      return (loaders ??= createLoaders(requestDb, viewer, services.nestedReadPlanning));
    },
    get services() {
      return (requestServices ??= services.forRequest(requestDb));
    },
    renewLoaders() {
      loaders = undefined;
    },
  };
}
