import { DataSource } from 'typeorm';
import { Viewer, clientScope } from '../../auth/viewer';
import { byIdLoader } from '../../common/loaders';
import { SqlParams, hydrate, listColumns } from '../../common/paging';
import { ClientEntity } from './client.entity';

/** A client-role viewer sees only its own client (clientById below applies the same rule). */
export function clientVisibility(viewer: Viewer, params: SqlParams, alias = 't'): string[] {
  const scope = clientScope(viewer);
  return scope ? [`${alias}.id = ${params.param(scope)}::uuid`] : [];
}

export function createClientLoaders(db: DataSource, viewer: Viewer) {
  const scope = clientScope(viewer);
  return {
    /** A client-role viewer can load only its own client: any other id is a miss. */
    clientById: byIdLoader<ClientEntity>(async (ids) => {
      const rows: Record<string, unknown>[] = await db.query(
        `SELECT ${listColumns(db, ClientEntity)} FROM client t WHERE t.id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR t.id = $2::uuid)`,
        [ids, scope],
      );
      return rows.map((row) => hydrate(db, ClientEntity, row));
    }),
  };
}

export type ClientLoaders = ReturnType<typeof createClientLoaders>;
