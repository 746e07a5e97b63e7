/** Every mutation of the API: its input type and the payload's object field (tests walk all of them). */
export const MUTATIONS = {
  createSupplier: ['CreateSupplierInput', 'supplier { id }'],
  updateSupplier: ['UpdateSupplierInput', 'supplier { id }'],
  removeSupplier: ['RemoveSupplierInput', 'removedId'],
  addSubprocessor: ['AddSubprocessorInput', 'supplier { id }'],
  removeSubprocessor: ['RemoveSubprocessorInput', 'supplier { id }'],
  createClient: ['CreateClientInput', 'client { id }'],
  updateClient: ['UpdateClientInput', 'client { id }'],
  removeClient: ['RemoveClientInput', 'removedId'],
  createContract: ['CreateContractInput', 'contract { id }'],
  updateContract: ['UpdateContractInput', 'contract { id }'],
  removeContract: ['RemoveContractInput', 'removedId'],
  createDataProcessingAgreement: ['CreateDataProcessingAgreementInput', 'dataProcessingAgreement { id }'],
  updateDataProcessingAgreement: ['UpdateDataProcessingAgreementInput', 'dataProcessingAgreement { id }'],
  removeDataProcessingAgreement: ['RemoveDataProcessingAgreementInput', 'removedId'],
  recordIncident: ['RecordIncidentInput', 'incident { id }'],
  updateIncident: ['UpdateIncidentInput', 'incident { id }'],
  recordNotificationDecision: ['RecordNotificationDecisionInput', 'exposure { id }'],
} as const;
export type MutationName = keyof typeof MUTATIONS;
