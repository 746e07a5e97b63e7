import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, clientScope, requireRole } from '../../auth/viewer';
import { ConstraintMessages, lockForUpdate } from '../../common/mutation';
import { Connection, PageArgs, SqlParams, listOrder, pageQuery } from '../../common/paging';
import { UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { ClientEntity } from './client.entity';
import { refreshObligationClocks, regimesOf } from '../obligation/obligation.clock';
import { lockExposureWrites } from '../exposure/exposure.lock';
import { ClientFilter, CreateClientInput, RemoveClientInput, UpdateClientInput } from './client.inputs';

export const CLIENT_CONSTRAINTS: ConstraintMessages = {
  client_name_not_blank: { field: ['input', 'name'], message: 'name must be 1 to 200 characters long' },
  client_reference_key: { field: ['input', 'reference'], message: 'Another client has this reference' },
  client_reference_format: {
    field: ['input', 'reference'],
    message: 'reference must be 1 to 100 characters, without surrounding spaces or control characters',
  },
};

/** A readable code from the name: upper-case words joined by '-', at most 60 characters (empty if none). */
export function referenceSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '')
    .toUpperCase();
}

/**
 * A reference for a client created without one: the name's slug and 6 random hex digits (random, so it
 * says nothing about how many clients exist). Tried until free: a clash is one in 16 million per slug.
 */
export async function freeClientReference(manager: EntityManager, name: string): Promise<string> {
  const slug = referenceSlug(name);
  for (;;) {
    const candidate = [slug, randomBytes(3).toString('hex').toUpperCase()].filter(Boolean).join('-');
    const [{ taken }] = await manager.query(
      `SELECT EXISTS (SELECT 1 FROM client WHERE reference = $1) AS taken`,
      [candidate],
    );
    if (!taken) return candidate;
  }
}

export class ClientService {
  constructor(private readonly connection: TransactionalConnection) {}

  /** A client-role viewer sees exactly one client: its own. */
  list(
    viewer: Viewer,
    filter: ClientFilter | null | undefined,
    page: PageArgs,
  ): Promise<Connection<ClientEntity>> {
    assertValidFilter(ClientFilter, filter);
    const params = new SqlParams();
    const where: string[] = [];
    const scope = clientScope(viewer);
    if (scope) where.push(`t.id = ${params.param(scope)}`);
    if (filter?.search)
      where.push(`t.name ILIKE ${params.param(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    if (filter?.sector) where.push(`t.sector = ${params.param(filter.sector)}`);
    return pageQuery(
      this.connection.manager,
      {
        entity: ClientEntity,
        from: 'client t',
        where,
        params,
        order: listOrder('clients', [
          { sql: 't.name', cast: 'text', value: (c) => c.name },
          { sql: 't.id', cast: 'uuid', value: (c) => c.id },
        ]),
      },
      page,
    );
  }

  async create(viewer: Viewer, input: CreateClientInput): Promise<ClientEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    const repository = this.connection.getRepository(ClientEntity);
    const name = input.name.trim();
    return repository.save(
      repository.create({
        name,
        reference: input.reference ?? (await freeClientReference(this.connection.manager, name)),
        sector: input.sector,
        country: input.country ?? 'GB',
        regimes: input.regimes?.length ? [...new Set(input.regimes)] : null,
      }),
    );
  }

  async update(viewer: Viewer, input: UpdateClientInput): Promise<ClientEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    return this.connection.transactionRetriedOnConflict(async (manager) => {
      // FOR NO KEY UPDATE, not FOR UPDATE: a recomputation holding the engine's lock that writes a new
      // exposure of this client takes FOR KEY SHARE on this row (the foreign key), which FOR UPDATE blocks;
      // with this transaction then waiting for the engine's lock, the two would deadlock. A new reference
      // (a unique column) makes PostgreSQL take FOR UPDATE at the write anyway, so that update takes it
      // here, before the engine's lock: after it, it would deadlock with a transaction that took FOR KEY
      // SHARE first and then queued for the engine's lock (createContract, recordClientNotice). Such an
      // update that also moves the regimes can still deadlock, as before, with a recomputation that adds an
      // exposure of this client meanwhile (docs/exposure-scoring.md, "Concurrency"); PostgreSQL then aborts
      // one of the two, and when it is this one it runs again, after the recomputation has committed (this
      // work is database work only, from the input alone, so it may).
      const client = await lockClient(
        manager,
        input.id,
        input.reference != null ? 'pessimistic_write' : 'for_no_key_update',
      );
      const before = JSON.stringify(regimesOf(client));
      if (input.name != null) client.name = input.name.trim();
      if (input.sector != null) client.sector = input.sector;
      if (input.reference != null) client.reference = input.reference;
      if (input.country != null) client.country = input.country;
      if (input.regimes != null) client.regimes = input.regimes.length ? [...new Set(input.regimes)] : null;
      // The regimes (as set, or from the sector and country) decide which clocks run: the client's
      // exposures' stored clocks follow. They are read under the engine's lock: a recomputation that
      // computed clocks from the regimes before (this update not committed yet) has committed by then, so
      // its exposures, new ones too, are read and refreshed here; one that comes later reads the regimes
      // after. recordNewIncident, which writes its rows before it takes the lock, checks its clients'
      // regimes once it holds it (clients_moved). The client is written before the lock, like every
      // register write: a file import locks the register's tables and then queues for the engine's lock,
      // so a write to the client table after the lock would deadlock with it (test (p)).
      const clocksMove = JSON.stringify(regimesOf(client)) !== before;
      const saved = await manager.save(client);
      if (clocksMove) {
        await lockExposureWrites(manager);
        const exposures: { id: string }[] = await manager.query(
          `SELECT id FROM exposure WHERE client_id = $1`,
          [client.id],
        );
        await refreshObligationClocks(
          manager,
          exposures.map((e) => e.id),
          new Date(),
          { locked: true },
        );
      }
      return saved;
    });
  }

  async remove(viewer: Viewer, input: RemoveClientInput): Promise<string> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      const client = await lockClient(manager, input.id);
      const [{ live, archived }] = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM contract WHERE client_id = $1 AND removed_at IS NULL) AS live,
                EXISTS (SELECT 1 FROM contract WHERE client_id = $1 AND removed_at IS NOT NULL) AS archived`,
        [client.id],
      );
      if (live)
        throw new UserInputProblem([
          userError(
            ['input', 'id'],
            UserErrorCode.CONFLICT,
            'This client still has contracts; remove them first',
          ),
        ]);
      // Removed contracts are archived, not deleted (rule 10), and they name their client.
      if (archived)
        throw new UserInputProblem([
          userError(
            ['input', 'id'],
            UserErrorCode.CONFLICT,
            "This client's removed contracts are kept as records and name it, so it stays in the register",
          ),
        ]);
      await manager.delete(ClientEntity, { id: client.id });
      return client.id;
    });
  }
}

function lockClient(
  manager: EntityManager,
  globalId: string,
  mode: 'pessimistic_write' | 'for_no_key_update' = 'pessimistic_write',
): Promise<ClientEntity> {
  return lockForUpdate(
    manager,
    ClientEntity,
    'Client',
    globalId,
    { field: ['input', 'id'], message: 'No client has this ID' },
    mode,
  );
}
