import { AgreementEntity, AgreementSubprocessorEntity } from './modules/agreement/agreement.entity';
import { ClientEntity } from './modules/client/client.entity';
import { ContractEntity } from './modules/contract/contract.entity';
import { IncidentEntity } from './modules/incident/incident.entity';
import {
  ExposureEntity,
  ExposureInputChangeEntity,
  ExposureRevisionEntity,
  NotificationDecisionEntity,
} from './modules/exposure/exposure.entity';
import { ExposureAlertEntity } from './modules/alert/alert.entity';
import { AuditEventEntity } from './modules/audit/audit.entity';
import { SupplierEntity, SupplierSubprocessorEntity } from './modules/supplier/supplier.entity';
import { ScheduledJobEntity } from './modules/schedule/scheduled-job.entity';
import {
  ClientNoticeEntity,
  ObligationReminderEntity,
  ObligationTriggerEntity,
} from './modules/obligation/obligation.entity';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from './modules/webhook/webhook.entity';
import { ImportJobEntity } from './modules/register-io/import-job.entity';

/** Every TypeORM entity; the DataSource and the migration generator read this list. */
export const ENTITIES = [
  SupplierEntity,
  SupplierSubprocessorEntity,
  ClientEntity,
  ContractEntity,
  AgreementEntity,
  AgreementSubprocessorEntity,
  IncidentEntity,
  ExposureEntity,
  ExposureRevisionEntity,
  NotificationDecisionEntity,
  ExposureInputChangeEntity,
  ExposureAlertEntity,
  AuditEventEntity,
  ScheduledJobEntity,
  ClientNoticeEntity,
  ObligationTriggerEntity,
  ObligationReminderEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
  ImportJobEntity,
];
