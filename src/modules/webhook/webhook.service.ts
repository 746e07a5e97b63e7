import { TransactionalConnection } from '../../db/transactional-connection';
import net from 'node:net';
import { EntityManager } from 'typeorm';
import { Config } from '../../config';
import { Viewer, clientScope, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages } from '../../common/mutation';
import { refusalOf } from '../../common/outgoing-http';
import { Connection, PageArgs, SqlParams, listOrder, pageQuery } from '../../common/paging';
import { UserError, UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { AlertKind } from '../alert/alert.entity';
import { newWebhookSecret } from './webhook.delivery';
import { WebhookEndpointEntity } from './webhook.entity';
import {
  CreateWebhookEndpointInput,
  RemoveWebhookEndpointInput,
  ReplayWebhookInput,
  RotateWebhookSecretInput,
  UpdateWebhookEndpointInput,
  WebhookEndpointFilter,
} from './webhook.inputs';

export interface WebhookServiceOptions {
  /** Production: endpoint URLs must be https. */
  requireHttps: boolean;
  /** Refuse URLs naming a non-public address up front (the worker checks every connection anyway). */
  allowPrivateTargets: boolean;
  /** How long a rotated-out secret keeps signing. */
  secretOverlapMs: number;
}

export function webhookServiceOptions(config: Config): WebhookServiceOptions {
  return {
    requireHttps: config.env === 'production',
    allowPrivateTargets: config.webhookAllowPrivateTargets,
    secretOverlapMs: config.webhookSecretOverlapSeconds * 1000,
  };
}

export const DEFAULT_WEBHOOK_SERVICE_OPTIONS: WebhookServiceOptions = {
  requireHttps: false,
  allowPrivateTargets: false,
  secretOverlapMs: 24 * 3600 * 1000,
};

export const WEBHOOK_CONSTRAINTS: ConstraintMessages = {
  webhook_endpoint_client_fk: { field: ['input', 'clientId'], message: 'No client has this ID' },
};

/** An endpoint and, right after creation or rotation only, its secret. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpointEntity;
  secret: string | null;
}

const MAX_BIGINT = 2n ** 63n - 1n;

/** Each delivery costs the register work: a client (or the all-clients set) may have this many endpoints. */
export const MAX_WEBHOOK_ENDPOINTS_PER_CLIENT = 20;

export class WebhookService {
  constructor(
    private readonly connection: TransactionalConnection,
    private readonly options: WebhookServiceOptions = DEFAULT_WEBHOOK_SERVICE_OPTIONS,
  ) {}

  /** The open transaction's manager or the DataSource's (TransactionalConnection). */
  private get db() {
    return this.connection.manager;
  }

  /** Admin and analyst see every endpoint; a client-role viewer only its own client's. */
  list(
    viewer: Viewer,
    filter: WebhookEndpointFilter | null | undefined,
    page: PageArgs,
  ): Promise<Connection<WebhookEndpointEntity>> {
    assertValidFilter(WebhookEndpointFilter, filter);
    const params = new SqlParams();
    const where: string[] = [];
    const scope = clientScope(viewer);
    if (scope) where.push(`t.client_id = ${params.param(scope)}`);
    if (filter?.clientId) {
      const clientId = decodeIdOf('Client', filter.clientId);
      // Not a client's ID, or (for a client) another client's: nothing matches.
      where.push(clientId ? `t.client_id = ${params.param(clientId)}` : 'FALSE');
    }
    if (filter?.disabled != null) where.push(filter.disabled ? 'NOT t.enabled' : 't.enabled');
    return pageQuery(
      this.db,
      {
        entity: WebhookEndpointEntity,
        from: 'webhook_endpoint t',
        where,
        params,
        order: listOrder('webhookEndpoints', [
          // To the millisecond, as the cursor carries it (a JavaScript Date), so a page boundary is exact.
          {
            sql: "date_trunc('milliseconds', t.created_at)",
            cast: 'timestamptz',
            value: (e) => new Date(e.registeredAt).toISOString(),
          },
          { sql: 't.id', cast: 'uuid', value: (e) => e.id },
        ]),
        leaveOut: ['secret', 'previousSecret'],
      },
      page,
    );
  }

  async create(viewer: Viewer, input: CreateWebhookEndpointInput): Promise<EndpointWithSecret> {
    requireRole(viewer, 'admin', 'client');
    await assertValid(input);
    const problems = this.urlProblems(input.url, ['input', 'url']);
    let clientId: string | null = null;
    if (input.clientId) {
      clientId = decodeIdOf('Client', input.clientId);
      if (!clientId)
        problems.push(userError(['input', 'clientId'], UserErrorCode.NOT_FOUND, 'No client has this ID'));
    }
    if (viewer.role === 'client') {
      if (clientId && clientId !== viewer.clientId)
        problems.push(
          userError(
            ['input', 'clientId'],
            UserErrorCode.FORBIDDEN,
            "A client's token may create endpoints only for its own client: omit clientId",
          ),
        );
      clientId = viewer.clientId;
    }
    if (problems.length) throw new UserInputProblem(problems);
    const secret = newWebhookSecret();
    // In a transaction so the audit trail names the actor (the audit subscriber stamps transactions).
    const row = await this.connection.transaction(async (manager) => {
      // Deliveries start with the next alert; older ones can be sent with replayWebhook.
      const [inserted] = await manager.query(
        `INSERT INTO webhook_endpoint (url, client_id, kinds, description, secret, cursor, created_by)
       SELECT $1, $2, $3, $4, $5, (SELECT coalesce(max(id), 0) FROM exposure_alert), $6
       WHERE (SELECT count(*) FROM webhook_endpoint WHERE client_id IS NOT DISTINCT FROM $2::uuid) < $7
       RETURNING id`,
        [
          input.url.trim(),
          clientId,
          kindsOf(input.kinds),
          blankToNull(input.description),
          secret,
          viewer.subject,
          MAX_WEBHOOK_ENDPOINTS_PER_CLIENT,
        ],
      );
      return inserted as { id: string } | undefined;
    });
    if (!row)
      throw new UserInputProblem([
        userError(
          ['input', 'url'],
          UserErrorCode.CONFLICT,
          `${clientId ? 'This client has' : 'There are'} ${MAX_WEBHOOK_ENDPOINTS_PER_CLIENT} webhook endpoints already, the most allowed: remove one first`,
        ),
      ]);
    return {
      endpoint: await this.connection.getRepository(WebhookEndpointEntity).findOneByOrFail({ id: row.id }),
      secret,
    };
  }

  async update(viewer: Viewer, input: UpdateWebhookEndpointInput): Promise<WebhookEndpointEntity> {
    requireRole(viewer, 'admin', 'client');
    await assertValid(input);
    if (input.url != null) {
      const problems = this.urlProblems(input.url, ['input', 'url']);
      if (problems.length) throw new UserInputProblem(problems);
    }
    return this.connection.transaction(async (manager) => {
      const endpoint = await lockEndpoint(manager, viewer, input.id);
      if (input.url != null) endpoint.url = input.url.trim();
      if (input.kinds != null) endpoint.kinds = kindsOf(input.kinds);
      if (input.description !== undefined) endpoint.description = blankToNull(input.description);
      if (input.enabled === true && !endpoint.enabled) {
        // Resuming starts the schedule afresh: the alert it stopped on goes out at once.
        Object.assign(endpoint, {
          enabled: true,
          disabledReason: null,
          disabledAt: null,
          failedAttempts: 0,
          failingSince: null,
          nextAttemptAt: new Date(),
        });
      } else if (input.enabled === false && endpoint.enabled) {
        Object.assign(endpoint, {
          enabled: false,
          disabledReason: `Paused by ${viewer.subject}`,
          disabledAt: new Date(),
        });
      }
      return manager.save(endpoint);
    });
  }

  async remove(viewer: Viewer, input: RemoveWebhookEndpointInput): Promise<string> {
    requireRole(viewer, 'admin', 'client');
    return this.connection.transaction(async (manager) => {
      const endpoint = await lockEndpoint(manager, viewer, input.id);
      await manager.delete(WebhookEndpointEntity, { id: endpoint.id });
      return endpoint.id;
    });
  }

  /** A new secret; the old one keeps signing alongside it for the configured overlap. */
  async rotateSecret(viewer: Viewer, input: RotateWebhookSecretInput): Promise<EndpointWithSecret> {
    requireRole(viewer, 'admin', 'client');
    return this.connection.transaction(async (manager) => {
      const endpoint = await lockEndpoint(manager, viewer, input.id);
      const secret = newWebhookSecret();
      endpoint.previousSecret = endpoint.secret;
      endpoint.previousSecretUntil = new Date(Date.now() + this.options.secretOverlapMs);
      endpoint.secret = secret;
      return { endpoint: await manager.save(endpoint), secret };
    });
  }

  /** Moves the endpoint's cursor back (or forward) to `after`: the worker re-sends from there, in order. */
  async replay(viewer: Viewer, input: ReplayWebhookInput): Promise<WebhookEndpointEntity> {
    requireRole(viewer, 'admin', 'client');
    const after = input.after ?? '0';
    if (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_BIGINT)
      throw new UserInputProblem([
        userError(
          ['input', 'after'],
          UserErrorCode.INVALID,
          'after must be an alert id (the webhook-id of an alert this endpoint received), or 0',
        ),
      ]);
    return this.connection.transaction(async (manager) => {
      const endpoint = await lockEndpoint(manager, viewer, input.endpointId, ['input', 'endpointId']);
      // The id as this endpoint numbers alerts, turned into the register-wide cursor.
      const [row] = await manager.query(
        endpoint.clientId === null
          ? `SELECT CASE WHEN $1::bigint <= (SELECT coalesce(max(id), 0) FROM exposure_alert) THEN $1::bigint END::text AS cursor,
                    (SELECT coalesce(max(id), 0) FROM exposure_alert)::text AS newest`
          : `SELECT CASE WHEN $1::bigint = 0 THEN '0' ELSE (SELECT id::text FROM exposure_alert WHERE client_id = $2 AND client_seq = $1::bigint) END AS cursor,
                    (SELECT coalesce(max(client_seq), 0) FROM exposure_alert WHERE client_id = $2)::text AS newest`,
        endpoint.clientId === null ? [after] : [after, endpoint.clientId],
      );
      if (row.cursor === null)
        throw new UserInputProblem([
          userError(
            ['input', 'after'],
            UserErrorCode.INVALID,
            `after: "${after}" has not been issued yet: the newest alert id of this endpoint is "${row.newest}"`,
          ),
        ]);
      Object.assign(endpoint, {
        cursor: row.cursor,
        // An attempt in flight now records its result without moving the cursor back.
        generation: endpoint.generation + 1,
        failedAttempts: 0,
        failingSince: null,
        nextAttemptAt: new Date(),
      });
      return manager.save(endpoint);
    });
  }

  private urlProblems(raw: string, field: string[]): UserError[] {
    const problem = (message: string) => [userError(field, UserErrorCode.INVALID, message)];
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      return problem('url is not a valid URL: write it as https://host/path');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return problem(`url must be an https:// URL (got ${url.protocol}//)`);
    if (this.options.requireHttps && url.protocol !== 'https:')
      return problem('url must be an https:// URL in production: alerts name clients and incidents');
    if (url.username || url.password)
      return problem('url must not carry a user name or password: the signature authenticates deliveries');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(host)) {
      const refusal = refusalOf(host, this.options.allowPrivateTargets);
      if (refusal) return problem(`url is refused: ${refusal}`);
    }
    return [];
  }
}

function kindsOf(kinds: AlertKind[] | null | undefined): AlertKind[] {
  const chosen = kinds?.length ? kinds : Object.values(AlertKind);
  return Object.values(AlertKind).filter((kind) => chosen.includes(kind));
}

function blankToNull(text: string | null | undefined): string | null {
  return text && text.trim() ? text.trim() : null;
}

/**
 * The endpoint a mutation changes, locked until its transaction ends. Another client's endpoint, a
 * malformed ID and an unknown one all answer NOT_FOUND: nothing tells a client that it exists.
 */
async function lockEndpoint(
  manager: EntityManager,
  viewer: Viewer,
  globalId: string,
  field = ['input', 'id'],
): Promise<WebhookEndpointEntity> {
  const id = decodeIdOf('WebhookEndpoint', globalId);
  const scope = clientScope(viewer);
  const endpoint = id
    ? await manager.findOne(WebhookEndpointEntity, {
        where: scope ? { id, clientId: scope } : { id },
        lock: { mode: 'pessimistic_write' },
      })
    : null;
  if (!endpoint)
    throw new UserInputProblem([
      userError(field, UserErrorCode.NOT_FOUND, 'No webhook endpoint has this ID'),
    ]);
  return endpoint;
}
