/**
 * Supplier.dependents and Query.concentration through the API, against an independent count written from
 * the rules (plain breadth-first searches in TypeScript over a model of the register), on generated
 * registers with chains, cycles, agreement-level sub-processors, windows that ended, retention, contracts
 * not started yet and archived rows; for an admin and for client-role viewers; with pinned statement counts.
 */
import fc from 'fast-check';
import { DataCategory, ServiceCriticality } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
} from '../support/factories';
import { clearRegister } from '../exposure/harness';

const DAY_MS = 24 * 3600 * 1000;
const TODAY = Date.parse(new Date().toISOString().slice(0, 10));
const day = (offset: number) => new Date(TODAY + offset * DAY_MS).toISOString().slice(0, 10);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);

interface ModelAgreement {
  id: string;
  people: number;
  special: boolean;
  retainedUntil: string | null;
  subprocessors: string[];
  removed: boolean;
}
interface ModelContract {
  id: string;
  client: string;
  supplier: string;
  startsOn: string;
  endsOn: string | null;
  critical: boolean;
  removed: boolean;
  agreements: ModelAgreement[];
}
interface Model {
  suppliers: string[];
  links: [string, string][];
  contracts: ModelContract[];
}

interface Expected {
  clientsReached: number;
  directClients: number;
  contracts: number;
  criticalContracts: number;
  criticalServiceShare: number;
  specialCategoryClients: number;
  peopleRange: { low: number; high: number };
}

/** Walks already done per model (a model is not changed once built): the big cycle asks for each many times. */
const walked = new WeakMap<Model, Map<string, Map<string, number>>>();

/** The suppliers `from` reaches along supplier-level links (itself included), by plain BFS. */
function reachOf(model: Model, from: string, backwards = false): Map<string, number> {
  const done = walked.get(model) ?? new Map<string, Map<string, number>>();
  walked.set(model, done);
  const key = `${backwards ? '<' : '>'}${from}`;
  const known = done.get(key);
  if (known) return known;
  const depth = new Map([[from, 0]]);
  const queue = [from];
  while (queue.length) {
    const node = queue.shift()!;
    for (const [a, b] of model.links) {
      const [here, next] = backwards ? [b, a] : [a, b];
      if (here === node && !depth.has(next)) {
        depth.set(next, depth.get(node)! + 1);
        queue.push(next);
      }
    }
  }
  done.set(key, depth);
  return depth;
}

/** Rule 2 with an incident window of today: what each contract holds today ('service' when it has no agreement). */
function holdingsToday(c: ModelContract): (ModelAgreement | 'service')[] {
  const today = day(0);
  if (c.removed || c.startsOn > today) return [];
  const live = c.agreements.filter((a) => !a.removed);
  if (live.length === 0) return c.endsOn === null || c.endsOn >= today ? ['service'] : [];
  return live.filter((a) => {
    if (c.endsOn === null) return true;
    const end = a.retainedUntil && a.retainedUntil > c.endsOn ? a.retainedUntil : c.endsOn;
    return end >= today;
  });
}

function expectedFor(model: Model, x: string, client: string | null): Expected {
  const inScope = model.contracts.filter((c) => client === null || c.client === client);
  const criticalTotal = inScope.filter((c) => c.critical && holdingsToday(c).length > 0).length;
  const clients = new Set<string>();
  const direct = new Set<string>();
  const special = new Set<string>();
  const agreements = new Map<string, number>();
  let contracts = 0;
  let critical = 0;
  for (const c of inScope) {
    const held = holdingsToday(c);
    const whole = reachOf(model, c.supplier).has(x);
    const covered = held.filter(
      (h) => whole || (h !== 'service' && h.subprocessors.some((p) => reachOf(model, p).has(x))),
    );
    if (covered.length === 0) continue;
    contracts += 1;
    if (c.critical) critical += 1;
    clients.add(c.client);
    if (c.supplier === x) direct.add(c.client);
    for (const h of covered) {
      if (h === 'service') continue;
      agreements.set(h.id, h.people);
      if (h.special) special.add(c.client);
    }
  }
  const people = [...agreements.values()];
  return {
    clientsReached: clients.size,
    directClients: direct.size,
    contracts,
    criticalContracts: critical,
    criticalServiceShare: criticalTotal === 0 ? 0 : critical / criticalTotal,
    specialCategoryClients: special.size,
    peopleRange: { low: people.length ? Math.max(...people) : 0, high: people.reduce((a, b) => a + b, 0) },
  };
}

const CONCENTRATION = `query($after: String, $filter: ConcentrationFilter) { concentration(first: 100, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { supplier { id } clientsReached directClients contracts criticalContracts criticalServiceShare
    specialCategoryClients peopleRange { low high } } } } }`;

const DEPENDENTS = `query($after: String) { suppliers(first: 20) { edges { node { id
  dependents(first: 20, after: $after) { totalCount edges { node { depth supplier { id } } } } } } } }`;

const scenarioArb = fc.record({
  suppliers: fc.integer({ min: 2, max: 9 }),
  links: fc.array(fc.tuple(fc.nat(8), fc.nat(8)), { maxLength: 20 }),
  clients: fc.integer({ min: 1, max: 4 }),
  contracts: fc.array(
    fc.record({
      client: fc.nat(3),
      supplier: fc.nat(8),
      start: fc.integer({ min: -300, max: 30 }),
      length: fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }),
      critical: fc.boolean(),
      removed: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
      agreements: fc.array(
        fc.record({
          special: fc.boolean(),
          people: fc.integer({ min: 0, max: 100_000 }),
          retention: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
          subprocessors: fc.array(fc.nat(8), { maxLength: 2 }),
          removed: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        }),
        { maxLength: 2 },
      ),
    }),
    { maxLength: 10 },
  ),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

describe('dependents and concentration', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  async function build(scenario: Scenario): Promise<{ model: Model; clients: string[] }> {
    const suppliers: string[] = [];
    for (let i = 0; i < scenario.suppliers; i++) suppliers.push((await createSupplier(app.services)).id);
    const clients: string[] = [];
    for (let i = 0; i < scenario.clients; i++) clients.push((await createClient(app.services)).id);
    const model: Model = { suppliers, links: [], contracts: [] };
    for (const [a, b] of scenario.links) {
      const [from, to] = [suppliers[a % suppliers.length], suppliers[b % suppliers.length]];
      if (from === to || model.links.some(([x, y]) => x === from && y === to)) continue;
      await linkSubprocessor(app.services, from, to);
      model.links.push([from, to]);
    }
    for (const c of scenario.contracts) {
      const supplier = suppliers[c.supplier % suppliers.length];
      const spec = {
        startsOn: day(c.start),
        endsOn: c.length === null ? null : day(c.start + c.length),
        criticality: c.critical ? ServiceCriticality.CRITICAL : ServiceCriticality.STANDARD,
      };
      const contract = await createContract(app.services, clients[c.client % clients.length], supplier, spec);
      const mc: ModelContract = {
        id: contract.id,
        client: clients[c.client % clients.length],
        supplier,
        startsOn: spec.startsOn,
        endsOn: spec.endsOn,
        critical: c.critical,
        removed: false,
        agreements: [],
      };
      for (const a of c.agreements) {
        const subprocessors = [
          ...new Set(a.subprocessors.map((i) => suppliers[i % suppliers.length])),
        ].filter((id) => id !== supplier);
        const retainedUntil = a.retention === null ? null : day(c.start + a.retention);
        const agreement = await createAgreement(app.services, contract.id, {
          dataCategories: a.special ? [DataCategory.HEALTH, DataCategory.CONTACT] : [DataCategory.CONTACT],
          dataSubjectCount: a.people,
          dataRetainedUntil: retainedUntil,
          subprocessorIds: subprocessors,
        });
        mc.agreements.push({
          id: agreement.id,
          people: a.people,
          special: a.special,
          retainedUntil,
          subprocessors,
          removed: a.removed,
        });
        if (a.removed)
          await app.services.agreement.remove(FACTORY_ADMIN, {
            id: encodeGlobalId('DataProcessingAgreement', agreement.id),
          });
      }
      if (c.removed) {
        await app.services.contract.remove(FACTORY_ADMIN, { id: encodeGlobalId('Contract', contract.id) });
        mc.removed = true;
      }
      model.contracts.push(mc);
    }
    return { model, clients };
  }

  async function ranking(token: string, filter?: object): Promise<any[]> {
    const nodes: any[] = [];
    let after: string | null = null;
    do {
      const page: any = dataOf(await app.gql(token, CONCENTRATION, { after, filter })).concentration;
      nodes.push(...page.edges.map((e: any) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return nodes;
  }

  function expectRanking(nodes: any[], model: Model, client: string | null): void {
    expect(nodes.map((n) => n.supplier.id).sort()).toEqual(
      model.suppliers.map((id) => encodeGlobalId('Supplier', id)).sort(),
    );
    for (const node of nodes) {
      const id = model.suppliers.find((s) => encodeGlobalId('Supplier', s) === node.supplier.id)!;
      const { supplier, criticalServiceShare, ...rest } = node;
      const { criticalServiceShare: share, ...expected } = expectedFor(model, id, client);
      expect(rest).toEqual(expected);
      expect(criticalServiceShare).toBeCloseTo(share, 9);
    }
    // Ranked: most clients first, then most contracts.
    for (let i = 1; i < nodes.length; i++) {
      const [a, b] = [nodes[i - 1], nodes[i]];
      expect(
        a.clientsReached > b.clientsReached ||
          (a.clientsReached === b.clientsReached && a.contracts >= b.contracts),
      ).toBe(true);
    }
  }

  it(`counts what an independent count over the model says, on ${RUNS} generated registers, for admins and each client`, async () => {
    let reachedThroughChains = 0;
    let clientsThroughChains = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        await clearRegister(app.database);
        const { model, clients } = await build(scenario);
        const ranked = await ranking(app.adminToken);
        expectRanking(ranked, model, null);
        if (ranked.some((n) => n.clientsReached > n.directClients)) clientsThroughChains += 1;
        for (const client of clients)
          expectRanking(await ranking(await app.clientToken(client)), model, client);

        // Dependents: every supplier's, against a backwards BFS.
        const suppliers = dataOf(await app.gql(app.analystToken, DEPENDENTS)).suppliers.edges;
        for (const { node } of suppliers) {
          const id = model.suppliers.find((s) => encodeGlobalId('Supplier', s) === node.id)!;
          const expected = [...reachOf(model, id, true)]
            .filter(([other]) => other !== id)
            .map(([other, depth]) => ({ depth, supplier: { id: encodeGlobalId('Supplier', other) } }));
          const got = node.dependents.edges.map((e: any) => e.node);
          expect([...got].sort((a, b) => a.supplier.id.localeCompare(b.supplier.id))).toEqual(
            expected.sort((a, b) => a.supplier.id.localeCompare(b.supplier.id)),
          );
          expect(node.dependents.totalCount).toBe(expected.length);
          // Nearest first.
          expect(got.map((d: any) => d.depth)).toEqual(
            [...got.map((d: any) => d.depth)].sort((a, b) => a - b),
          );
          if (expected.some((d) => d.depth > 1)) reachedThroughChains += 1;
        }
      }),
      { numRuns: RUNS },
    );
    // Not trivial: chains carry dependents, and clients beyond the direct ones.
    expect(reachedThroughChains).toBeGreaterThan(0);
    expect(clientsThroughChains).toBeGreaterThan(RUNS / 5);
  }, 240_000);

  it('counts one big strongly connected component (280 of 300 suppliers in a ring with chords) as the independent count does, in one statement', async () => {
    await clearRegister(app.database);
    // Suppliers 0-279: a ring with chords (one component); 280-289: a chain into the ring; 290-295: a chain
    // out of it; 296-299: a small cycle further down. Contracts enter at several ring members, upstream and
    // downstream, some through agreement-level sub-processors, some ended, archived or not started yet.
    const RING = 280;
    const links: [number, number][] = [];
    for (let i = 0; i < RING; i++) links.push([i, (i + 1) % RING]);
    for (let i = 0; i < RING; i += 5) links.push([i, (i + 37) % RING]);
    for (let i = 280; i < 289; i++) links.push([i, i + 1]);
    links.push([289, 11], [140, 290]);
    for (let i = 290; i < 295; i++) links.push([i, i + 1]);
    links.push([295, 296], [296, 297], [297, 298], [298, 299], [299, 296]);
    const agreement = (
      people: number,
      special: boolean,
      subprocessors: number[] = [],
      retention: number | null = null,
    ) => ({
      special,
      people,
      retention,
      subprocessors,
      removed: false,
    });
    const contract = (
      client: number,
      supplier: number,
      agreements: ReturnType<typeof agreement>[],
      more = {},
    ) => ({
      client,
      supplier,
      start: -100,
      length: null as number | null,
      critical: supplier % 2 === 0,
      removed: false,
      agreements,
      ...more,
    });
    const scenario: Scenario = {
      suppliers: 300,
      links,
      clients: 4,
      contracts: [
        contract(0, 0, [agreement(1000, true)]),
        contract(1, 77, [agreement(2000, false), agreement(500, true, [297])]),
        contract(2, 150, []),
        contract(3, 213, [agreement(3000, false)], { length: 50 }), // ended, kept by nothing
        contract(3, 213, [agreement(4000, true, [], 200)], { length: 50 }), // ended, its data retained
        contract(0, 283, [agreement(5000, false)]), // upstream of the ring
        contract(1, 292, [agreement(6000, true, [9])]), // downstream, an agreement naming a ring member
        contract(2, 298, [agreement(7000, false)]), // the small cycle
        contract(3, 150, [agreement(8000, true)], { start: 10 }), // not started yet
        contract(2, 40, [agreement(9000, true)], { removed: true }), // archived
        contract(1, 299, [agreement(100, false, [5])]),
      ],
    };
    const { model, clients } = await build(scenario);
    expect(model.links).toHaveLength(links.length);
    const ranked = await ranking(app.adminToken);
    expectRanking(ranked, model, null);
    for (const client of clients) expectRanking(await ranking(await app.clientToken(client)), model, client);
    // Not trivial: every ring member reaches the clients entering anywhere in or above the ring.
    const ringMember = ranked.find((n) => n.supplier.id === encodeGlobalId('Supplier', model.suppliers[200]));
    expect(ringMember.clientsReached).toBe(4);
    expect(ringMember.directClients).toBe(0);
    const page = await app.gql(
      app.adminToken,
      '{ concentration(first: 10) { edges { node { clientsReached } } } }',
    );
    expect(page.sqlStatements).toBe(1);
    const first = await app.gql(app.adminToken, CONCENTRATION);
    expect(first.sqlStatements).toBe(2);
    // A later page's count binds its own parameters, with and without a reach filter.
    const after = dataOf(first).concentration.pageInfo.endCursor;
    expect(dataOf(await app.gql(app.adminToken, CONCENTRATION, { after })).concentration.totalCount).toBe(
      300,
    );
    const reaching = ranked.filter((n) => n.clientsReached > 0).length;
    const filtered = dataOf(
      await app.gql(app.adminToken, CONCENTRATION, { filter: { reachesClients: true } }),
    ).concentration;
    expect(filtered.totalCount).toBe(reaching);
    const second = dataOf(
      await app.gql(app.adminToken, CONCENTRATION, {
        filter: { reachesClients: true },
        after: filtered.pageInfo.endCursor,
      }),
    ).concentration;
    expect(second.totalCount).toBe(reaching);
  }, 240_000);

  describe('on a fixed register', () => {
    let cloud: string;
    let clients: string[];
    beforeAll(async () => {
      await clearRegister(app.database);
      // Hosting -> Cloud, Payroll -> Hosting (a chain), Cloud -> Payroll (a cycle); Mail names Cloud in an agreement.
      const [cloudS, hosting, payroll, mail] = [
        await createSupplier(app.services, { name: 'Cloud' }),
        await createSupplier(app.services, { name: 'Hosting' }),
        await createSupplier(app.services, { name: 'Payroll' }),
        await createSupplier(app.services, { name: 'Mail' }),
      ];
      cloud = cloudS.id;
      await linkSubprocessor(app.services, hosting.id, cloud);
      await linkSubprocessor(app.services, payroll.id, hosting.id);
      await linkSubprocessor(app.services, cloud, payroll.id);
      clients = [];
      for (const [i, supplier] of [payroll.id, mail.id, cloud, mail.id].entries()) {
        const client = await createClient(app.services, { name: `Council ${i}` });
        clients.push(client.id);
        const contract = await createContract(app.services, client.id, supplier, {
          criticality: i % 2 ? ServiceCriticality.CRITICAL : ServiceCriticality.STANDARD,
        });
        await createAgreement(app.services, contract.id, {
          dataCategories: [i === 1 ? DataCategory.HEALTH : DataCategory.CONTACT],
          dataSubjectCount: 1000 * (i + 1),
          subprocessorIds: supplier === mail.id && i === 1 ? [cloud] : [],
        });
      }
    });

    it('answers "who depends on Cloud" with depths, through the cycle, paged', async () => {
      const query = `query($id: ID!, $after: String) { node(id: $id) { ... on Supplier { dependents(first: 1, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { depth supplier { name } } } } } } }`;
      const names: string[] = [];
      let after: string | null = null;
      do {
        const page: any = dataOf(
          await app.gql(app.adminToken, query, { id: encodeGlobalId('Supplier', cloud), after }),
        ).node.dependents;
        expect(page.totalCount).toBe(2);
        names.push(...page.edges.map((e: any) => `${e.node.supplier.name}@${e.node.depth}`));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(names).toEqual(['Hosting@1', 'Payroll@2']);
    });

    it('ranks Cloud (and its cycle) first, and a client sees only its own contracts counted', async () => {
      // Cloud, Hosting and Payroll are one cycle: each reaches what the others reach, and they rank first.
      const ranked = await ranking(app.adminToken);
      expect(ranked.slice(0, 3).map((n) => n.clientsReached)).toEqual([3, 3, 3]);
      const top = ranked.find((n) => n.supplier.id === encodeGlobalId('Supplier', cloud));
      expect(ranked.indexOf(top)).toBeLessThan(3);
      expect(top).toMatchObject({
        clientsReached: 3,
        directClients: 1,
        contracts: 3,
        specialCategoryClients: 1,
        criticalContracts: 1,
      });
      expect(top.criticalServiceShare).toBeCloseTo(0.5, 9);
      const mine = await ranking(await app.clientToken(clients[3]));
      // Council 3 buys from Mail, whose agreement names no sub-processor: it reaches Mail only.
      expect(mine.filter((n) => n.clientsReached > 0)).toHaveLength(1);
      expect(mine.reduce((sum, n) => sum + n.contracts, 0)).toBe(1);
      expect(Math.max(...mine.map((n) => n.clientsReached))).toBe(1);
    });

    it('filters, and refuses a cursor of another list', async () => {
      const reaching = await ranking(app.adminToken, { reachesClients: true });
      expect(reaching.every((n) => n.clientsReached > 0)).toBe(true);
      const none = dataOf(
        await app.gql(app.adminToken, CONCENTRATION, { filter: { reachesClients: false } }),
      ).concentration;
      expect(none.totalCount).toBe(none.edges.length);
      const suppliers = dataOf(
        await app.gql(app.adminToken, '{ suppliers(first: 1) { pageInfo { endCursor } } }'),
      ).suppliers;
      const refused = await app.gql(app.adminToken, CONCENTRATION, { after: suppliers.pageInfo.endCursor });
      expect(refused.body.errors?.[0].message).toMatch(/belongs to the suppliers list, not to concentration/);
    });

    it('costs one statement a page (two with totalCount), and one each for dependents however many suppliers', async () => {
      const page = await app.gql(
        app.adminToken,
        '{ concentration(first: 10) { edges { node { clientsReached } } } }',
      );
      expect(page.sqlStatements).toBe(1);
      const counted = await app.gql(app.adminToken, CONCENTRATION);
      expect(counted.sqlStatements).toBe(2); // the page (suppliers come with it) and totalCount
      const nested = await app.gql(app.adminToken, DEPENDENTS);
      expect(nested.sqlStatements).toBe(3); // suppliers, dependents' pages (suppliers come with them), their counts
      for (let i = 0; i < 5; i++) {
        const s = await createSupplier(app.services);
        await linkSubprocessor(app.services, s.id, cloud);
      }
      expect((await app.gql(app.adminToken, DEPENDENTS)).sqlStatements).toBe(3);
      expect((await app.gql(app.adminToken, CONCENTRATION)).sqlStatements).toBe(2);
    });
  });
});
