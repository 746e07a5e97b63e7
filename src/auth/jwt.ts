import { createRemoteJWKSet, errors, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import { Config } from '../config';
import { decodeIdOf } from '../common/global-id';
import { ROLES, Role, Viewer, unauthenticated } from './viewer';

export interface TokenVerifier {
  verify(token: string): Promise<Viewer>;
}

/** HS256 with JWT_SECRET, or RS256/ES256 with the identity provider's key set at JWT_JWKS_URL. */
export function createTokenVerifier(config: Pick<Config, 'jwtSecret' | 'jwtJwksUrl' | 'jwtIssuer' | 'jwtAudience'>): TokenVerifier {
  const jwks: JWTVerifyGetKey | null = config.jwtJwksUrl ? createRemoteJWKSet(new URL(config.jwtJwksUrl)) : null;
  const secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : null;
  return {
    async verify(token: string): Promise<Viewer> {
      let payload;
      try {
        const options = {
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          requiredClaims: ['exp', 'sub'],
        };
        payload = jwks
          ? (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload
          : (await jwtVerify(token, secret!, { ...options, algorithms: ['HS256'] })).payload;
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw unauthenticated('The token has expired');
        if (error instanceof errors.JWTClaimValidationFailed) throw unauthenticated(`The token is not valid: ${error.message}`);
        throw unauthenticated('The token is not valid');
      }
      const role = payload.role;
      if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
        throw unauthenticated(`The token's role claim must be one of ${ROLES.join(', ')}`);
      }
      let clientId: string | null = null;
      if (role === 'client') {
        clientId = typeof payload.client_id === 'string' ? decodeIdOf('Client', payload.client_id) : null;
        if (!clientId) throw unauthenticated("A token with role client needs a client_id claim holding a Client's global ID");
      }
      return { subject: String(payload.sub), role: role as Role, clientId, expiresAt: new Date((payload.exp as number) * 1000) };
    },
  };
}

/** Mints an HS256 token (local use, tests and the demo). */
export async function mintToken(secret: string, claims: { sub: string; role: Role; client_id?: string }, expiresIn = '12h'): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.client_id ? { client_id: claims.client_id } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
