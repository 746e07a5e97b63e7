import { GraphQLError } from 'graphql';
import { ErrorCode } from '../common/error-code';

export type Role = 'admin' | 'analyst' | 'client';
export const ROLES: readonly Role[] = ['admin', 'analyst', 'client'];

/** Who is asking: every resolver and service receives one. */
export interface Viewer {
  subject: string;
  role: Role;
  /** The Client's database id for role `client`; null for admin and analyst. */
  clientId: string | null;
  /** When the token expires; long-lived subscriptions end then. */
  expiresAt?: Date;
}

export function forbidden(message = 'You are not allowed to do this'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, http: { status: 403 } } });
}

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
  });
}

/** Throws FORBIDDEN unless the viewer has one of the roles. */
export function requireRole(viewer: Viewer, ...roles: Role[]): void {
  if (!roles.includes(viewer.role)) {
    throw forbidden(`This needs the role ${roles.join(' or ')}; your token has the role ${viewer.role}`);
  }
}

/** For a client-role viewer: the only client id it may see. null means "no restriction". */
export function clientScope(viewer: Viewer): string | null {
  return viewer.role === 'client' ? viewer.clientId : null;
}
