/**
 * Opaque global IDs: base64url("Type:uuid"). Clients must treat them as opaque;
 * the type prefix lets node(id) find the right table and lets every input check
 * that an ID names the kind of object it expects.
 */
export type NodeTypeName =
  | 'Supplier'
  | 'Client'
  | 'Contract'
  | 'DataProcessingAgreement'
  | 'Incident'
  | 'Exposure'
  | 'WebhookEndpoint';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeGlobalId(type: NodeTypeName, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

export interface DecodedGlobalId {
  type: NodeTypeName;
  id: string;
}

/** Returns null for anything that is not a well-formed global ID. */
export function decodeGlobalId(globalId: string): DecodedGlobalId | null {
  if (typeof globalId !== 'string' || globalId.length > 200 || !/^[A-Za-z0-9_-]+={0,2}$/.test(globalId))
    return null;
  const text = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const type = text.slice(0, colon) as NodeTypeName;
  const id = text.slice(colon + 1);
  if (!UUID.test(id)) return null;
  if (
    ![
      'Supplier',
      'Client',
      'Contract',
      'DataProcessingAgreement',
      'Incident',
      'Exposure',
      'WebhookEndpoint',
    ].includes(type)
  )
    return null;
  return { type, id };
}

/** The database id behind a global ID of the expected type, or null. */
export function decodeIdOf(type: NodeTypeName, globalId: string): string | null {
  const decoded = decodeGlobalId(globalId);
  return decoded && decoded.type === type ? decoded.id : null;
}
