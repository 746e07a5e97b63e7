import type { TokenVerifier } from '../auth/jwt';
import { Viewer, unauthenticated } from '../auth/viewer';

/** The viewer of an `Authorization: Bearer <JWT>` value (an HTTP header, or a WebSocket's connectionParams). */
export async function bearerViewer(
  verifier: TokenVerifier,
  authorization: string | undefined,
): Promise<Viewer> {
  if (!authorization) throw unauthenticated('Send a token: Authorization: Bearer <JWT>');
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <JWT>"');
  return verifier.verify(match[1]);
}
