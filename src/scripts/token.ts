import { parseArgs } from 'node:util';
import { DEVELOPMENT_JWT_SECRET, jwtMaxLifetimeSeconds } from '../config';
import { mintToken } from '../auth/jwt';
import { ROLES, Role } from '../auth/viewer';
import { decodeIdOf } from '../common/global-id';

/**
 * Mints a token for local use:
 *   npm run token -- --role client --client <Client global id> [--sub name] [--expires 12h]
 * Signed HS256 with JWT_SECRET, or with the development secret when JWT_SECRET is unset.
 */

export const USAGE = `Usage: npm run token -- --role <admin|analyst|client> [--client <Client global ID>] [--sub <name>] [--expires <duration>]

  --role      admin, analyst or client (required)
  --client    the Client's global ID (required for --role client, and only for it)
  --sub       the token subject, e.g. your name (default: local-<role>)
  --expires   lifetime such as 30m, 12h (default 12h); at most JWT_MAX_LIFETIME (default 24h), which the API enforces

The token is signed with JWT_SECRET (HS256); without JWT_SECRET it uses the development secret.`;

/** A mistake in the command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

export interface TokenRequest {
  role: Role;
  clientId: string | null;
  sub: string;
  expires: string;
}

// The units jose's setExpirationTime understands; anything else would fail later with a vaguer message.
const DURATION =
  /^\d+ ?(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31_557_600 };

/** A --expires value in seconds (jose counts a year as 365.25 days). */
function lifetimeSeconds(expires: string): number {
  const [, amount, unit] = /^(\d+) ?([a-z])/.exec(expires)!;
  return Number(amount) * UNIT_SECONDS[unit];
}

export function parseTokenArgs(argv: string[], env: NodeJS.ProcessEnv = {}): TokenRequest {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        role: { type: 'string' },
        client: { type: 'string' },
        sub: { type: 'string' },
        expires: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const role = values.role;
  if (!role) throw new UsageError('--role is required');
  if (!ROLES.includes(role as Role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${role}"`);
  let clientId: string | null = null;
  if (role === 'client') {
    if (!values.client)
      throw new UsageError('--role client needs --client <Client global ID>: the client the token may see');
    if (!decodeIdOf('Client', values.client))
      throw new UsageError(
        `--client must be a Client's global ID (as returned by the API in Client.id); "${values.client}" is not`,
      );
    clientId = values.client;
  } else if (values.client !== undefined) {
    throw new UsageError(`--client is only for --role client; an ${role} token sees every client`);
  }
  const sub = values.sub ?? `local-${role}`;
  if (!sub.trim()) throw new UsageError('--sub must not be empty');
  const expires = values.expires ?? '12h';
  if (!DURATION.test(expires) || /^0+ ?[a-z]/.test(expires))
    throw new UsageError(`--expires must be a positive duration such as 30m, 2h or 12h; got "${expires}"`);
  const max = jwtMaxLifetimeSeconds(env);
  if (lifetimeSeconds(expires) > max) {
    throw new UsageError(
      `--expires ${expires} is longer than the API accepts: tokens may live at most ${max / 3600} h (JWT_MAX_LIFETIME)`,
    );
  }
  return { role: role as Role, clientId, sub, expires };
}

/** The signing secret, with the same rules as the API's config (src/config.ts). */
export function signingSecret(env: NodeJS.ProcessEnv): { secret: string; note: string | null } {
  if (env.JWT_SECRET) {
    if (env.JWT_SECRET.length < 32)
      throw new UsageError('JWT_SECRET must be at least 32 characters long (the API refuses shorter ones)');
    return { secret: env.JWT_SECRET, note: null };
  }
  if (env.JWT_JWKS_URL)
    throw new UsageError(
      'JWT_JWKS_URL is set: the API verifies tokens from your identity provider, so a locally signed token would be refused. Set JWT_SECRET to mint one here.',
    );
  if (env.NODE_ENV === 'production')
    throw new UsageError('JWT_SECRET is not set: in production the development secret is never accepted');
  return {
    secret: DEVELOPMENT_JWT_SECRET,
    note: 'JWT_SECRET is not set: signed with the development secret, which only a development server (without JWT_SECRET) accepts.',
  };
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Prints the token on stdout (notes on stderr, so `$(npm run --silent token -- …)` captures only the token). Returns the exit code. */
export async function main(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  io: Io = processIo,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const request = parseTokenArgs(argv, env);
    const { secret, note } = signingSecret(env);
    if (note) io.stderr(`Note: ${note}\n`);
    const token = await mintToken(
      secret,
      { sub: request.sub, role: request.role, ...(request.clientId ? { client_id: request.clientId } : {}) },
      request.expires,
    );
    io.stdout(`${token}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`Error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(
        `Could not mint a token: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
