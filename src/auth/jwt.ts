import { createRemoteJWKSet, errors, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import { Config, DEFAULT_JWT_MAX_LIFETIME_SECONDS } from '../config';
import { decodeIdOf } from '../common/global-id';
import { ROLES, Role, Viewer, unauthenticated } from './viewer';

export interface TokenVerifier {
  verify(token: string): Promise<Viewer>;
}

export interface TokenVerifierOptions {
  /** Whether a Client's database id names a client of the register; a client token for any other is refused. */
  clientExists?: (clientId: string) => Promise<boolean>;
}

/** How far ahead of this server's clock a token's `iat` may be (the issuer's clock may run a little fast). */
export const CLOCK_SKEW_SECONDS = 60;

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;
}

/**
 * HS256 with JWT_SECRET, or RS256/ES256 with the identity provider's key set at JWT_JWKS_URL. Beyond the
 * signature and expiry: a token may live at most JWT_MAX_LIFETIME, may not be issued in the future, names
 * its subject as a string, and a client token names a client that exists.
 */
export function createTokenVerifier(
  config: Pick<Config, 'jwtSecret' | 'jwtJwksUrl' | 'jwtIssuer' | 'jwtAudience'> &
    Partial<Pick<Config, 'jwtMaxLifetimeSeconds'>>,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const maxLifetime = config.jwtMaxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS;
  const jwks: JWTVerifyGetKey | null = config.jwtJwksUrl
    ? createRemoteJWKSet(new URL(config.jwtJwksUrl))
    : null;
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
        if (error instanceof errors.JWTClaimValidationFailed)
          throw unauthenticated(`The token is not valid: ${error.message}`);
        throw unauthenticated('The token is not valid');
      }
      const now = Math.floor(Date.now() / 1000);
      const exp = payload.exp as number;
      // jose has checked that iat, when present, is a number.
      if (payload.iat !== undefined && payload.iat > now + CLOCK_SKEW_SECONDS) {
        throw unauthenticated(
          `The token's iat (issued at) is ${payload.iat - now} s in the future: check the issuer's clock`,
        );
      }
      if (exp - (payload.iat ?? now) > maxLifetime) {
        throw unauthenticated(
          `The token lives longer than this API accepts (at most ${hours(maxLifetime)} from iat to exp, JWT_MAX_LIFETIME): ask for a shorter-lived token`,
        );
      }
      if (typeof payload.sub !== 'string' || !payload.sub.trim()) {
        throw unauthenticated("The token's sub claim must be a non-empty string");
      }
      const role = payload.role;
      if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
        throw unauthenticated(`The token's role claim must be one of ${ROLES.join(', ')}`);
      }
      let clientId: string | null = null;
      if (role === 'client') {
        clientId = typeof payload.client_id === 'string' ? decodeIdOf('Client', payload.client_id) : null;
        if (!clientId)
          throw unauthenticated(
            "A token with role client needs a client_id claim holding a Client's global ID",
          );
        if (options.clientExists && !(await options.clientExists(clientId))) {
          throw unauthenticated(
            "The token's client_id names no client of this register (it was removed, or never existed)",
          );
        }
      }
      return { subject: payload.sub, role: role as Role, clientId, expiresAt: new Date(exp * 1000) };
    },
  };
}

/** Mints an HS256 token (local use, tests and the demo). */
export async function mintToken(
  secret: string,
  claims: { sub: string; role: Role; client_id?: string },
  expiresIn = '12h',
): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.client_id ? { client_id: claims.client_id } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
