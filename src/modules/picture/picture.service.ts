import { TransactionalConnection } from '../../db/transactional-connection';
import { Viewer, clientScope } from '../../auth/viewer';
import { decodeIdOf, encodeGlobalId } from '../../common/global-id';
import { SqlParams } from '../../common/paging';
import { contractVisibility } from '../contract/contract.loaders';
import { exposureConditions } from '../exposure/exposure.loaders';
import { incidentVisibility } from '../incident/incident.loaders';
import { supplierWalk } from '../supplier/supplier.walk';
import { PictureEdge, PictureGraph, PictureNode, pictureHtml, renderSvg } from './picture.render';

/**
 * The most of each kind a picture draws: beyond a few hundred boxes a drawing is no longer read, and the
 * layout's time grows faster than linearly. What is left out is said in the caption (as a count only of
 * what the viewer may see: suppliers, and the viewer's own clients).
 */
export const PICTURE_LIMITS = { suppliersPerSide: 120, clients: 150, exposures: 150 } as const;

interface SupplierRow {
  id: string;
  name: string;
  tier: string;
}

const supplierNode = (row: SupplierRow, focus = false): PictureNode => ({
  id: encodeGlobalId('Supplier', row.id),
  kind: 'supplier',
  label: row.name,
  detail: `tier ${row.tier.toLowerCase()}`,
  focus,
});

const contractLabel = (references: string[], count: number): string =>
  count === 1 ? references[0] : `${references[0]} +${count - 1} more`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The pictures' content, read with the same visibility rules as the API (contractVisibility,
 * exposureConditions, incidentVisibility): a client-role viewer's picture has its own client node only,
 * and only the chains that reach it. Both answer null for an id that is unknown, archived or not visible,
 * so the route answers the same 404 for all three.
 */
export class PictureService {
  constructor(private readonly connection: TransactionalConnection) {}

  private get db() {
    return this.connection.manager;
  }

  /**
   * A supplier, what it relies on (its supplier-level sub-processors, through chains), who relies on it
   * (its dependents, through chains), and the clients whose contracts reach it (with it or with a
   * dependent), one link per (client, supplier) labelled with the contract reference.
   */
  async supplierChain(viewer: Viewer, supplierGlobalId: string): Promise<PictureGraph | null> {
    const supplierId = decodeIdOf('Supplier', supplierGlobalId);
    if (!supplierId) return null;
    const [focus]: SupplierRow[] = await this.db.query(
      `SELECT id, name, tier FROM supplier WHERE id = $1 AND removed_at IS NULL`,
      [supplierId],
    );
    if (!focus) return null;
    // Both walks in one statement: each supplier once per side, at its shortest depth.
    const reached: (SupplierRow & { side: 'down' | 'up'; depth: number })[] = await this.db.query(
      `WITH RECURSIVE ${supplierWalk('down', '(SELECT $1::uuid AS source)', 'subprocessors')},
       ${supplierWalk('up', '(SELECT $1::uuid AS source)', 'dependents')},
       reached AS (
         SELECT n.node, 'down' AS side, w.depth FROM down w CROSS JOIN LATERAL unnest(w.frontier) AS n(node) WHERE w.depth > 0
         UNION ALL
         SELECT n.node, 'up' AS side, w.depth FROM up w CROSS JOIN LATERAL unnest(w.frontier) AS n(node) WHERE w.depth > 0
       )
       SELECT r.side, r.depth, s.id, s.name, s.tier FROM reached r JOIN supplier s ON s.id = r.node
       ORDER BY r.side, r.depth, s.name, s.id`,
      [supplierId],
    );
    const down = reached.filter((r) => r.side === 'down');
    const up = reached.filter((r) => r.side === 'up');
    const drawnDown = down.slice(0, PICTURE_LIMITS.suppliersPerSide);
    let drawnUp = up.slice(0, PICTURE_LIMITS.suppliersPerSide);
    const suppliers = new Map<string, SupplierRow>([[focus.id, focus]]);
    for (const row of [...drawnDown, ...drawnUp]) if (!suppliers.has(row.id)) suppliers.set(row.id, row);

    const links: { supplier_id: string; subprocessor_id: string }[] = await this.db.query(
      `SELECT supplier_id, subprocessor_id FROM supplier_subprocessor
       WHERE supplier_id = ANY($1::uuid[]) AND subprocessor_id = ANY($1::uuid[])`,
      [[...suppliers.keys()]],
    );

    // The clients whose contracts enter the chain at the supplier or above it (a dependent), as the
    // viewer may see them: a client-role viewer's own contracts only.
    const entryIds = [focus.id, ...drawnUp.map((r) => r.id)];
    const params = new SqlParams();
    const where = [
      't.removed_at IS NULL',
      `t.supplier_id = ANY(${params.param(entryIds)}::uuid[])`,
      ...contractVisibility(viewer, params),
    ];
    const contracts: {
      client_id: string;
      client_name: string;
      supplier_id: string;
      contracts: number;
      references: string[];
    }[] = await this.db.query(
      `SELECT t.client_id, c.name AS client_name, t.supplier_id, count(*)::int AS contracts,
              (array_agg(t.reference ORDER BY t.reference))[1:1] AS references
       FROM contract t JOIN client c ON c.id = t.client_id
       WHERE ${where.join(' AND ')}
       GROUP BY t.client_id, c.name, t.supplier_id
       ORDER BY c.name, t.client_id, t.supplier_id`,
      params.values,
    );
    const clientIds = [...new Set(contracts.map((c) => c.client_id))];
    const drawnClients = new Set(clientIds.slice(0, PICTURE_LIMITS.clients));
    const drawnContracts = contracts.filter((c) => drawnClients.has(c.client_id));

    if (clientScope(viewer)) {
      // A client sees the chains that reach it: of the dependents, only those on a way from a supplier
      // it contracts with to this one (what lies below the supplier reaches it through the supplier).
      const upIds = new Set(drawnUp.map((r) => r.id));
      const next = new Map<string, string[]>();
      for (const l of links) {
        if (!next.has(l.supplier_id)) next.set(l.supplier_id, []);
        next.get(l.supplier_id)!.push(l.subprocessor_id);
      }
      const onWay = new Set<string>();
      const queue = drawnContracts.map((c) => c.supplier_id).filter((id) => upIds.has(id));
      while (queue.length) {
        const id = queue.pop()!;
        if (onWay.has(id)) continue;
        onWay.add(id);
        for (const to of next.get(id) ?? []) if (upIds.has(to)) queue.push(to);
      }
      const downIds = new Set(drawnDown.map((r) => r.id));
      drawnUp = drawnUp.filter((r) => onWay.has(r.id) || downIds.has(r.id));
      for (const id of [...suppliers.keys()])
        if (id !== focus.id && !downIds.has(id) && !onWay.has(id)) suppliers.delete(id);
    }

    const nodes: PictureNode[] = [...suppliers.values()].map((row) => supplierNode(row, row.id === focus.id));
    const clientNames = new Map(drawnContracts.map((c) => [c.client_id, c.client_name]));
    for (const [id, name] of clientNames)
      nodes.push({ id: encodeGlobalId('Client', id), kind: 'client', label: name });
    const edges: PictureEdge[] = [
      ...drawnContracts.map((c) => ({
        from: encodeGlobalId('Client', c.client_id),
        to: encodeGlobalId('Supplier', c.supplier_id),
        label: contractLabel(c.references, c.contracts),
      })),
      ...links
        .filter((l) => suppliers.has(l.supplier_id) && suppliers.has(l.subprocessor_id))
        .map((l) => ({
          from: encodeGlobalId('Supplier', l.supplier_id),
          to: encodeGlobalId('Supplier', l.subprocessor_id),
          label: 'sub-processor',
        })),
    ];

    const leftOut: string[] = [];
    if (down.length > drawnDown.length) leftOut.push(`${down.length - drawnDown.length} sub-processors`);
    if (!clientScope(viewer) && up.length > PICTURE_LIMITS.suppliersPerSide)
      leftOut.push(`${up.length - PICTURE_LIMITS.suppliersPerSide} dependents`);
    if (clientIds.length > drawnClients.size) leftOut.push(`${clientIds.length - drawnClients.size} clients`);
    const caption = [
      `${plural(drawnDown.length, 'sub-processor')} below, ${plural(drawnUp.length, 'dependent')} above`,
      clientScope(viewer)
        ? 'your contracts that reach it'
        : `${plural(drawnClients.size, 'client')} with contracts that reach it`,
      leftOut.length ? `not drawn: ${leftOut.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return { title: `${focus.name}: supply chain`, caption, nodes, edges };
  }

  /**
   * An incident's supplier, the exposed clients the viewer may see (highest score first, coloured by
   * level) and each exposure's path: client → contract supplier → … → the incident's supplier, the
   * first link labelled with the contracts involved.
   */
  async exposureMap(viewer: Viewer, incidentGlobalId: string): Promise<PictureGraph | null> {
    const incidentId = decodeIdOf('Incident', incidentGlobalId);
    if (!incidentId) return null;
    const params = new SqlParams();
    const where = [`t.id = ${params.param(incidentId)}::uuid`, ...incidentVisibility(viewer, params)];
    const [incident]: { id: string; title: string; status: string; supplier_id: string }[] =
      await this.db.query(
        `SELECT t.id, t.title, t.status, t.supplier_id FROM incident t WHERE ${where.join(' AND ')}`,
        params.values,
      );
    if (!incident) return null;

    const exposureParams = new SqlParams();
    const exposureWhere = [
      `t.incident_id = ${exposureParams.param(incident.id)}::uuid`,
      ...exposureConditions(viewer, null, exposureParams),
    ];
    const exposures: {
      client_id: string;
      client_name: string;
      level: NonNullable<PictureNode['level']>;
      score: number;
      path: string[];
      contract_ids: string[];
      total: number;
    }[] = await this.db.query(
      `SELECT t.client_id, c.name AS client_name, t.level, t.score, t.path, t.contract_ids,
              count(*) OVER ()::int AS total
       FROM exposure t JOIN client c ON c.id = t.client_id
       WHERE ${exposureWhere.join(' AND ')}
       ORDER BY t.score DESC, t.id DESC LIMIT ${PICTURE_LIMITS.exposures}`,
      exposureParams.values,
    );
    const supplierIds = [...new Set([incident.supplier_id, ...exposures.flatMap((e) => e.path)])];
    const contractIds = [...new Set(exposures.flatMap((e) => e.contract_ids))];
    const contractParams = new SqlParams();
    const [suppliers, contracts]: [SupplierRow[], { id: string; reference: string }[]] = await Promise.all([
      this.db.query(`SELECT id, name, tier FROM supplier WHERE id = ANY($1::uuid[])`, [supplierIds]),
      contractIds.length
        ? this.db.query(
            `SELECT t.id, t.reference FROM contract t WHERE ${[
              `t.id = ANY(${contractParams.param(contractIds)}::uuid[])`,
              ...contractVisibility(viewer, contractParams),
            ].join(' AND ')}`,
            contractParams.values,
          )
        : Promise.resolve([]),
    ]);
    const supplierById = new Map(suppliers.map((s) => [s.id, s]));
    const referenceById = new Map(contracts.map((c) => [c.id, c.reference]));

    const nodes: PictureNode[] = supplierIds
      .filter((id) => supplierById.has(id))
      .map((id) => supplierNode(supplierById.get(id)!, id === incident.supplier_id));
    const edges = new Map<string, PictureEdge>();
    for (const exposure of exposures) {
      const client = encodeGlobalId('Client', exposure.client_id);
      nodes.push({
        id: client,
        kind: 'client',
        label: exposure.client_name,
        detail: `${exposure.level.toLowerCase()} · score ${exposure.score}`,
        level: exposure.level,
      });
      const path = exposure.path.length ? exposure.path : [incident.supplier_id];
      const references = exposure.contract_ids
        .map((id) => referenceById.get(id))
        .filter((r): r is string => r !== undefined)
        .sort();
      const first = encodeGlobalId('Supplier', path[0]);
      edges.set(`${client}>${first}`, {
        from: client,
        to: first,
        label: references.length ? contractLabel(references, references.length) : 'contract',
      });
      for (let i = 0; i + 1 < path.length; i++) {
        const from = encodeGlobalId('Supplier', path[i]);
        const to = encodeGlobalId('Supplier', path[i + 1]);
        edges.set(`${from}>${to}`, { from, to, label: 'sub-processor' });
      }
    }
    const total = exposures[0]?.total ?? 0;
    const caption = [
      clientScope(viewer)
        ? exposures.length
          ? 'your exposure and the chain it comes through'
          : 'you have no open exposure to this incident'
        : `${plural(total, 'exposed client')}${total > exposures.length ? `, the ${exposures.length} highest scores drawn` : ''}`,
      `status ${incident.status.toLowerCase()}`,
      'colour: exposure level',
    ].join('; ');
    return {
      title: `${incident.title} at ${supplierById.get(incident.supplier_id)?.name ?? 'a supplier'}: exposure map`,
      caption,
      nodes,
      edges: [...edges.values()],
    };
  }

  /** The exposure map as a standalone SVG, or null (unknown or not visible): for pages and reports alike. */
  async exposureMapSvg(viewer: Viewer, incidentGlobalId: string): Promise<string | null> {
    const graph = await this.exposureMap(viewer, incidentGlobalId);
    return graph ? renderSvg(graph) : null;
  }

  /** The supplier chain as a standalone SVG, or null (unknown, archived). */
  async supplierChainSvg(viewer: Viewer, supplierGlobalId: string): Promise<string | null> {
    const graph = await this.supplierChain(viewer, supplierGlobalId);
    return graph ? renderSvg(graph) : null;
  }

  /** A picture as the small HTML page around it, or null. */
  async page(kind: 'chain' | 'exposure-map', viewer: Viewer, globalId: string): Promise<string | null> {
    const graph =
      kind === 'chain'
        ? await this.supplierChain(viewer, globalId)
        : await this.exposureMap(viewer, globalId);
    return graph ? pictureHtml(graph, await renderSvg(graph)) : null;
  }
}
