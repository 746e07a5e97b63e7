import { EntityManager, IsNull } from 'typeorm';
import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, requireRole } from '../../auth/viewer';
import { decodeIdOf } from '../../common/global-id';
import { ConstraintMessages, lockLiveForUpdate } from '../../common/mutation';
import {
  Connection,
  PageArgs,
  SqlParams,
  childConnection,
  hydrate,
  listColumns,
  listOrder,
  pageQuery,
  pageSize,
  toConnection,
} from '../../common/paging';
import { decodeCursor } from '../../common/connection';
import { OrderDirection, orderKind } from '../../common/order-direction';
import { supplierWalk } from './supplier.walk';
import { DEPENDENT_ORDER, SupplierDependent, SupplierLoaders } from './supplier.loaders';
import { UserErrorCode, UserInputProblem, userError } from '../../common/user-error';
import { assertValid, assertValidFilter } from '../../common/validation';
import { SupplierEntity, SupplierSubprocessorEntity } from './supplier.entity';
import {
  AddSubprocessorInput,
  CreateSupplierInput,
  RemoveSubprocessorInput,
  RemoveSupplierInput,
  SupplierFilter,
  SupplierOrder,
  SupplierOrderField,
  UpdateSupplierInput,
} from './supplier.inputs';
import { ExposureEngine } from '../exposure/exposure.engine';

export const SUPPLIER_CONSTRAINTS: ConstraintMessages = {
  supplier_lei_key: { field: ['input', 'lei'], message: 'Another supplier already has this LEI' },
  supplier_company_number_key: {
    field: ['input', 'companyNumber'],
    message: 'Another supplier already has this company number',
  },
  supplier_lei_format: {
    field: ['input', 'lei'],
    message: 'lei must be a 20-character ISO 17442 Legal Entity Identifier',
  },
  supplier_company_number_format: {
    field: ['input', 'companyNumber'],
    message: 'companyNumber must be a UK Companies House number',
  },
  supplier_country_format: {
    field: ['input', 'country'],
    message: 'country must be an ISO 3166-1 alpha-2 code',
  },
  supplier_name_not_blank: { field: ['input', 'name'], message: 'name must be 1 to 200 characters long' },
  PK_supplier_subprocessor: {
    field: ['input', 'subprocessorId'],
    message: 'This sub-processor is already linked',
  },
};

/**
 * The ids among `ids` of suppliers in the register (not archived), locked FOR KEY SHARE until the caller's
 * transaction ends: a concurrent removeSupplier (FOR UPDATE) waits for the write that uses them, or that
 * write, run after it, no longer finds them. A plain existence check would let a contract, link or incident
 * be written against a supplier archived at the same moment.
 */
export async function lockLiveSuppliers(manager: EntityManager, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: { id: string }[] = await manager.query(
    `SELECT id FROM supplier WHERE id = ANY($1::uuid[]) AND removed_at IS NULL ORDER BY id FOR KEY SHARE`,
    [ids],
  );
  return new Set(rows.map((row) => row.id));
}

/** By name: the default order of the supplier list. */
const SUPPLIER_ORDER = listOrder<SupplierEntity>('suppliers', [
  { sql: 't.name', cast: 'text', value: (s) => s.name },
  { sql: 't.id', cast: 'uuid', value: (s) => s.id },
]);

/** Rules for suppliers and their supplier-level sub-processor links. */
export class SupplierService {
  constructor(
    private readonly connection: TransactionalConnection,
    /** Recomputes, inside each write's transaction, the exposures the write can move. */
    private readonly exposure: ExposureEngine,
  ) {}

  /**
   * Suppliers are public within the register: every role may list them. Removed (archived) ones are not
   * listed. By name unless `orderBy` says otherwise; each order has its own cursor kind.
   */
  list(
    _viewer: Viewer,
    filter: SupplierFilter | null | undefined,
    page: PageArgs,
    orderBy?: SupplierOrder | null,
  ): Promise<Connection<SupplierEntity>> {
    assertValidFilter(SupplierFilter, filter);
    assertValidFilter(SupplierOrder, orderBy, 'orderBy');
    const params = new SqlParams();
    const where: string[] = ['t.removed_at IS NULL'];
    if (filter?.search) {
      const pattern = params.param(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(t.name ILIKE ${pattern} OR t.company_number ILIKE ${pattern} OR t.lei ILIKE ${pattern})`);
    }
    if (filter?.strategic !== undefined && filter?.strategic !== null)
      where.push(`t.strategic = ${params.param(filter.strategic)}`);
    if (filter?.tier) where.push(`t.tier = ${params.param(filter.tier)}`);
    const field = orderBy?.field ?? SupplierOrderField.NAME;
    const direction =
      orderBy?.direction ?? (field === SupplierOrderField.NAME ? OrderDirection.ASC : OrderDirection.DESC);
    if (field === SupplierOrderField.DEPENDENTS) return this.listByDependents(where, params, page, direction);
    return pageQuery(
      this.connection.manager,
      {
        entity: SupplierEntity,
        from: 'supplier t',
        where,
        params,
        order:
          direction === OrderDirection.ASC
            ? SUPPLIER_ORDER
            : listOrder(orderKind('suppliers', field, direction), [...SUPPLIER_ORDER]),
        descending: direction === OrderDirection.DESC,
      },
      page,
    );
  }

  /**
   * Suppliers by how many suppliers depend on them through chains (Supplier.dependents' totalCount), then
   * name and id: one backwards walk from each listed supplier (supplierWalk: each link at most once per
   * source, whatever the cycles), counted per source, joined to the page. The cursor carries the count.
   */
  private async listByDependents(
    where: string[],
    params: SqlParams,
    page: PageArgs,
    direction: OrderDirection,
  ): Promise<Connection<SupplierEntity>> {
    const db = this.connection.manager;
    const kind = orderKind('suppliers', SupplierOrderField.DEPENDENTS, direction);
    const first = pageSize(page);
    const cursor = page.after ? decodeCursor(page.after, kind, ['integer', 'text', 'uuid']) : null;
    const listed = where.join(' AND ');
    const countParams = [...params.values];
    const conditions = [listed];
    const descending = direction === OrderDirection.DESC;
    if (cursor) {
      conditions.push(
        `(coalesce(d.dependents, 0), t.name, t.id) ${descending ? '<' : '>'} (${params.param(cursor[0])}::integer, ${params.param(cursor[1])}::text, ${params.param(cursor[2])}::uuid)`,
      );
    }
    const dir = descending ? 'DESC' : 'ASC';
    const rows: Record<string, unknown>[] = await db.query(
      `WITH RECURSIVE ${supplierWalk('walk', `(SELECT t.id AS source FROM supplier t WHERE ${listed})`, 'dependents')},
       counts AS (
         SELECT source, (sum(cardinality(frontier)) FILTER (WHERE depth > 0))::int AS dependents FROM walk GROUP BY source
       )
       SELECT ${listColumns(db, SupplierEntity)}, coalesce(d.dependents, 0) AS __dependents
       FROM supplier t LEFT JOIN counts d ON d.source = t.id
       WHERE ${conditions.join(' AND ')}
       ORDER BY coalesce(d.dependents, 0) ${dir}, t.name ${dir}, t.id ${dir} LIMIT ${first + 1}`,
      params.values,
    );
    const dependents = new Map(rows.map((row) => [row.id as string, row.__dependents as number]));
    return toConnection(
      rows.map((row) => hydrate(db, SupplierEntity, row)),
      first,
      cursor !== null,
      kind,
      (s) => [dependents.get(s.id) ?? 0, s.name, s.id],
      async () => {
        const [{ count }] = await db.query(
          `SELECT count(*)::int AS count FROM supplier t WHERE ${listed}`,
          countParams,
        );
        return count as number;
      },
    );
  }

  /** Who depends on this supplier (suppliers are public to every role, so is this graph). */
  pageDependents(
    loaders: SupplierLoaders,
    supplierId: string,
    page: PageArgs,
  ): Promise<Connection<SupplierDependent>> {
    return childConnection(
      loaders.dependentPagesBySupplier.load({ parentId: supplierId, ...page }),
      page,
      DEPENDENT_ORDER,
      () => loaders.dependentCountsBySupplier.load(supplierId),
    );
  }

  async create(viewer: Viewer, input: CreateSupplierInput): Promise<SupplierEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    const repository = this.connection.getRepository(SupplierEntity);
    return repository.save(
      repository.create({
        name: input.name.trim(),
        companyNumber: input.companyNumber ?? null,
        lei: input.lei ?? null,
        country: input.country,
        tier: input.tier,
        strategic: input.strategic ?? false,
      }),
    );
  }

  async update(viewer: Viewer, input: UpdateSupplierInput): Promise<SupplierEntity> {
    requireRole(viewer, 'admin');
    await assertValid(input);
    return this.connection.transaction(async (manager) => {
      const supplier = await this.lockSupplier(manager, input.id, ['input', 'id']);
      if (input.name != null) supplier.name = input.name.trim();
      if (input.companyNumber !== undefined) supplier.companyNumber = input.companyNumber;
      if (input.lei !== undefined) supplier.lei = input.lei;
      if (input.country != null) supplier.country = input.country;
      if (input.tier != null) supplier.tier = input.tier;
      if (input.strategic != null) supplier.strategic = input.strategic;
      return manager.save(supplier);
    });
  }

  /**
   * Rule 10: removal archives the supplier (removed_at; the row stays, so exposure paths that ran through it
   * still name it). Only a supplier nothing live depends on may go: no contract in the register, no open
   * incident, no supplier or agreement relying on it as a sub-processor. Its own sub-processor links go with
   * it; with nothing reaching it they carried no exposure, so nothing is recomputed.
   */
  async remove(viewer: Viewer, input: RemoveSupplierInput): Promise<string> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      const supplier = await this.lockSupplier(manager, input.id, ['input', 'id']);
      const [use]: { contracts: boolean; open_incidents: boolean; relied_on: boolean }[] =
        await manager.query(
          `SELECT EXISTS (SELECT 1 FROM contract WHERE supplier_id = $1 AND removed_at IS NULL) AS contracts,
                EXISTS (SELECT 1 FROM incident WHERE supplier_id = $1 AND status <> 'CLOSED') AS open_incidents,
                EXISTS (SELECT 1 FROM supplier_subprocessor WHERE subprocessor_id = $1)
                  OR EXISTS (SELECT 1 FROM agreement_subprocessor l JOIN data_processing_agreement a ON a.id = l.agreement_id
                             WHERE l.subprocessor_id = $1 AND a.removed_at IS NULL) AS relied_on`,
          [supplier.id],
        );
      const blockers = [
        use.contracts && 'it still has contracts (remove them first)',
        use.open_incidents && 'it has an incident that is not CLOSED (close it first)',
        use.relied_on && 'suppliers or agreements rely on it as a sub-processor (unlink them first)',
      ].filter(Boolean);
      if (blockers.length) {
        throw new UserInputProblem([
          userError(
            ['input', 'id'],
            UserErrorCode.CONFLICT,
            `This supplier cannot be removed yet: ${blockers.join('; ')}`,
          ),
        ]);
      }
      await manager.query(`DELETE FROM supplier_subprocessor WHERE supplier_id = $1`, [supplier.id]);
      await manager.query(`UPDATE supplier SET removed_at = now(), updated_at = now() WHERE id = $1`, [
        supplier.id,
      ]);
      return supplier.id;
    });
  }

  async addSubprocessor(viewer: Viewer, input: AddSubprocessorInput): Promise<SupplierEntity> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      // The link table's write lock before its ends are checked live (as createContract: a file import in
      // mode=replace archiving the sub-processor meanwhile would leave a link to an archived supplier).
      await manager.query(`LOCK TABLE supplier_subprocessor IN ROW EXCLUSIVE MODE`);
      const { supplier, subprocessor } = await this.linkEnds(manager, input);
      const inserted = await manager.query(
        `INSERT INTO supplier_subprocessor (supplier_id, subprocessor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING supplier_id`,
        [supplier.id, subprocessor.id],
      );
      if (inserted.length === 0) {
        throw new UserInputProblem([
          userError(
            ['input', 'subprocessorId'],
            UserErrorCode.CONFLICT,
            `${subprocessor.name} is already a sub-processor of ${supplier.name}`,
          ),
        ]);
      }
      await this.exposure.registerChanged(manager, { supplierIds: [supplier.id] });
      return supplier;
    });
  }

  async removeSubprocessor(viewer: Viewer, input: RemoveSubprocessorInput): Promise<SupplierEntity> {
    requireRole(viewer, 'admin');
    return this.connection.transaction(async (manager) => {
      const { supplier, subprocessor } = await this.linkEnds(manager, input);
      const result = await manager.delete(SupplierSubprocessorEntity, {
        supplierId: supplier.id,
        subprocessorId: subprocessor.id,
      });
      if (!result.affected) {
        throw new UserInputProblem([
          userError(
            ['input', 'subprocessorId'],
            UserErrorCode.NOT_FOUND,
            `${subprocessor.name} is not a sub-processor of ${supplier.name}`,
          ),
        ]);
      }
      await this.exposure.registerChanged(manager, { supplierIds: [supplier.id] });
      return supplier;
    });
  }

  private async linkEnds(manager: EntityManager, input: { supplierId: string; subprocessorId: string }) {
    const supplierId = decodeIdOf('Supplier', input.supplierId);
    const subprocessorId = decodeIdOf('Supplier', input.subprocessorId);
    const problems = [];
    if (!supplierId)
      problems.push(
        userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'supplierId is not the ID of a supplier'),
      );
    if (!subprocessorId)
      problems.push(
        userError(
          ['input', 'subprocessorId'],
          UserErrorCode.NOT_FOUND,
          'subprocessorId is not the ID of a supplier',
        ),
      );
    if (supplierId && supplierId === subprocessorId)
      problems.push(
        userError(
          ['input', 'subprocessorId'],
          UserErrorCode.INVALID,
          'A supplier cannot be its own sub-processor',
        ),
      );
    if (problems.length) throw new UserInputProblem(problems);
    // Locked like lockLiveSuppliers does, in the same statement.
    const rows = await manager.find(SupplierEntity, {
      where: [
        { id: supplierId!, removedAt: IsNull() },
        { id: subprocessorId!, removedAt: IsNull() },
      ],
      order: { id: 'ASC' },
      lock: { mode: 'for_key_share' },
    });
    const supplier = rows.find((s) => s.id === supplierId);
    const subprocessor = rows.find((s) => s.id === subprocessorId);
    if (!supplier)
      problems.push(userError(['input', 'supplierId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID'));
    if (!subprocessor)
      problems.push(
        userError(['input', 'subprocessorId'], UserErrorCode.NOT_FOUND, 'No supplier has this ID'),
      );
    if (problems.length) throw new UserInputProblem(problems);
    return { supplier: supplier!, subprocessor: subprocessor! };
  }

  private lockSupplier(manager: EntityManager, globalId: string, field: string[]): Promise<SupplierEntity> {
    return lockLiveForUpdate(manager, SupplierEntity, 'Supplier', globalId, {
      field,
      message: 'No supplier has this ID',
    });
  }
}
