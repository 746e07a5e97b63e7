/**
 * The pictures end to end: the real server, real PostgreSQL and a real headless Chromium. Each page is
 * opened with a bearer header (never in the URL), screenshotted into test/output/pictures/ (gitignored),
 * and the nodes drawn (data-node-id on the SVG) are checked against the API's answer for the same viewer.
 * A client-role token sees its own client node and the chains that reach it, nothing of other clients,
 * and unknown, archived or invisible ids answer the same 404. GraphiQL opens a picture through a blob: URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BrowserContext, Page } from 'playwright-core';
import { TestBrowser, launchTestBrowser } from '../support/browser';
import { DataCategory, IncidentStatus } from '../../src/common/enums';
import { encodeGlobalId } from '../../src/common/global-id';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  FACTORY_ADMIN,
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  linkSubprocessor,
  recordIncident,
} from '../support/factories';

// Browser-side callbacks below run in the page, not in Node; the suite compiles without the DOM lib.
declare const document: any;

const SHOTS = path.join(__dirname, '..', 'output', 'pictures');

interface Drawn {
  nodes: Map<string, { kind: string; level: string | null; text: string }>;
  edges: { from: string; to: string; label: string }[];
  text: string;
}

async function drawnOn(page: Page): Promise<Drawn> {
  const { nodes, edges, text } = await page.evaluate(() => ({
    nodes: [...document.querySelectorAll('svg g.node')].map((g: any) => ({
      id: g.getAttribute('data-node-id'),
      kind: g.getAttribute('data-node-kind'),
      level: g.getAttribute('data-level'),
      text: g.textContent,
    })),
    edges: [...document.querySelectorAll('svg g.edge')].map((g: any) => ({
      from: g.getAttribute('data-from'),
      to: g.getAttribute('data-to'),
      label: g.querySelector('text.edge-label')?.textContent ?? '',
    })),
    text: document.documentElement.outerHTML as string,
  }));
  return {
    nodes: new Map(nodes.map((n: any) => [n.id, { kind: n.kind, level: n.level, text: n.text }])),
    edges,
    text,
  };
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('pictures: supplier chain and exposure map', () => {
  let app: TestApp;
  let context: BrowserContext;
  let browser: TestBrowser | undefined;
  const ids: Record<string, string> = {};
  let incidentId: string;
  let clientBToken: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    app = await startTestApp();
    const s = app.services;
    // Capita relies on AWS, which relies on Cloudflare; Reseller and Outsourcer rely on Capita.
    const capita = await createSupplier(s, { name: 'Capita plc' });
    const aws = await createSupplier(s, { name: 'Amazon Web Services' });
    const cloudflare = await createSupplier(s, { name: 'Cloudflare' });
    const reseller = await createSupplier(s, { name: 'Reseller Ltd' });
    const outsourcer = await createSupplier(s, { name: 'Outsourcer Ltd' });
    const archived = await createSupplier(s, { name: 'Archived Ltd' });
    await s.supplier.remove(FACTORY_ADMIN, { id: encodeGlobalId('Supplier', archived.id) });
    await linkSubprocessor(s, capita.id, aws.id);
    await linkSubprocessor(s, aws.id, cloudflare.id);
    await linkSubprocessor(s, reseller.id, capita.id);
    await linkSubprocessor(s, outsourcer.id, capita.id);
    const clientA = await createClient(s, { name: 'Alpha Council' });
    const clientB = await createClient(s, { name: 'Beta Trust' });
    const clientC = await createClient(s, { name: 'Gamma Borough' });
    const people = [DataCategory.BASIC_IDENTITY, DataCategory.HEALTH];
    const contractA = await createContract(s, clientA.id, capita.id, { reference: 'A-CAPITA-1' });
    await createAgreement(s, contractA.id, { dataCategories: people, dataSubjectCount: 50000 });
    const contractB = await createContract(s, clientB.id, reseller.id, { reference: 'B-RESELL-1' });
    await createAgreement(s, contractB.id, { dataSubjectCount: 2000 });
    const contractC = await createContract(s, clientC.id, outsourcer.id, { reference: 'C-OUTSRC-1' });
    await createAgreement(s, contractC.id, { dataSubjectCount: 300 });
    const { incident } = await recordIncident(s, aws.id, {
      title: 'Region outage',
      status: IncidentStatus.CONFIRMED,
      detectedAt: new Date(),
      startedAt: new Date(Date.now() - 3600_000),
    });
    Object.assign(ids, {
      capita: encodeGlobalId('Supplier', capita.id),
      aws: encodeGlobalId('Supplier', aws.id),
      archived: encodeGlobalId('Supplier', archived.id),
      clientA: encodeGlobalId('Client', clientA.id),
      clientB: encodeGlobalId('Client', clientB.id),
      clientC: encodeGlobalId('Client', clientC.id),
    });
    incidentId = encodeGlobalId('Incident', incident.id);
    clientBToken = await app.clientToken(clientB.id);

    browser = await launchTestBrowser('pictures');
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** Opens a page as the token's holder, the token in the Authorization header only; screenshots it. */
  async function open(urlPath: string, token: string, shot: string): Promise<Drawn> {
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${token}` });
    try {
      const response = await page.goto(`${app.url}${urlPath}`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['cache-control']).toBe('no-store');
      await page.waitForSelector('svg g.node');
      await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
      // The page fetched nothing else (no script, no CDN, no font).
      expect(requests).toEqual([`${app.url}${urlPath}`]);
      return await drawnOn(page);
    } finally {
      await page.close();
    }
  }

  /** The API's view of the chain, for the same viewer: what the chain picture must draw. */
  async function chainFromApi(token: string, supplierId: string) {
    const contractsOf = 'contracts(first: 20) { edges { node { reference client { id name } } } }';
    const { node } = dataOf(
      await app.gql(
        token,
        `query($id: ID!) { node(id: $id) { ... on Supplier { id chainPictureUrl ${contractsOf}
          subprocessors { id subprocessors { id subprocessors { id } } }
          dependents(first: 20) { edges { node { depth supplier { id ${contractsOf} } } } } } } }`,
        { id: supplierId },
      ),
    );
    const down = (list: any[]): string[] => list.flatMap((s) => [s.id, ...down(s.subprocessors ?? [])]);
    const withContracts = [node, ...node.dependents.edges.map((e: any) => e.node.supplier)];
    const clients = withContracts.flatMap((s: any) => s.contracts.edges.map((e: any) => e.node.client.id));
    const dependents = node.dependents.edges.map((e: any) => e.node.supplier);
    return { node, down: down(node.subprocessors), dependents, clients };
  }

  it('draws the supplier chain an admin sees: the supplier, its sub-processors, dependents and clients', async () => {
    const api = await chainFromApi(app.adminToken, ids.capita);
    expect(api.node.chainPictureUrl).toBe(`/suppliers/${ids.capita}/chain`);
    const drawn = await open(api.node.chainPictureUrl, app.adminToken, 'chain-admin');
    const expected = sorted([
      ids.capita,
      ...api.down,
      ...api.dependents.map((d: any) => d.id),
      ...api.clients,
    ]);
    expect(sorted(drawn.nodes.keys())).toEqual(expected);
    expect(expected).toHaveLength(8); // 5 suppliers (the archived one is not linked), 3 clients
    expect(drawn.nodes.get(ids.clientA)?.kind).toBe('client');
    expect(drawn.nodes.get(ids.capita)?.text).toContain('Capita plc');
    // Links are labelled: the contract reference on a client's link, "sub-processor" between suppliers.
    expect(drawn.edges).toContainEqual({ from: ids.clientA, to: ids.capita, label: 'A-CAPITA-1' });
    expect(drawn.edges).toContainEqual({ from: ids.capita, to: ids.aws, label: 'sub-processor' });
  });

  it("draws a client's own part of the chain only: no other client's name, node or count", async () => {
    const api = await chainFromApi(clientBToken, ids.capita);
    const drawn = await open(`/suppliers/${ids.capita}/chain`, clientBToken, 'chain-client');
    // The client's own contracts enter through Reseller: the dependents kept are those it contracts with.
    const reaching = api.dependents.filter((d: any) => d.contracts.edges.length > 0).map((d: any) => d.id);
    expect(sorted(drawn.nodes.keys())).toEqual(
      sorted([ids.capita, ...api.down, ...reaching, ...api.clients]),
    );
    expect(api.clients).toEqual([ids.clientB]);
    expect(drawn.nodes.has(ids.clientA)).toBe(false);
    for (const other of ['Alpha Council', 'Gamma Borough', 'A-CAPITA-1', 'C-OUTSRC-1', 'Outsourcer Ltd'])
      expect(drawn.text).not.toContain(other);
    expect(drawn.text).not.toMatch(/\b3 clients|\d+ clients? with contracts/);
  });

  it('draws the exposure map: the incident supplier, the chains and the exposed clients coloured by level', async () => {
    const { node } = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposureMapUrl supplier { id }
          exposures(first: 100) { totalCount edges { node { level client { id } path { id } } } } } } }`,
        { id: incidentId },
      ),
    );
    const drawn = await open(node.exposureMapUrl, app.adminToken, 'exposure-map-admin');
    const exposures = node.exposures.edges.map((e: any) => e.node);
    expect(exposures).toHaveLength(3);
    expect(sorted(drawn.nodes.keys())).toEqual(
      sorted([
        node.supplier.id,
        ...exposures.flatMap((e: any) => [e.client.id, ...e.path.map((p: any) => p.id)]),
      ]),
    );
    for (const exposure of exposures) {
      expect(drawn.nodes.get(exposure.client.id)?.level).toBe(exposure.level);
      const path = exposure.path.map((p: any) => p.id);
      expect(drawn.edges.some((e) => e.from === exposure.client.id && e.to === path[0])).toBe(true);
      for (let i = 0; i + 1 < path.length; i++)
        expect(drawn.edges).toContainEqual({ from: path[i], to: path[i + 1], label: 'sub-processor' });
    }
    expect(drawn.nodes.get(node.supplier.id)?.kind).toBe('supplier');
  });

  it("draws a client's own exposure only on the exposure map", async () => {
    const { node } = dataOf(
      await app.gql(
        clientBToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { supplier { id }
          exposures(first: 100) { edges { node { level client { id } path { id } } } } } } }`,
        { id: incidentId },
      ),
    );
    const drawn = await open(`/incidents/${incidentId}/exposure-map`, clientBToken, 'exposure-map-client');
    const exposures = node.exposures.edges.map((e: any) => e.node);
    expect(exposures.map((e: any) => e.client.id)).toEqual([ids.clientB]);
    expect(sorted(drawn.nodes.keys())).toEqual(
      sorted([
        node.supplier.id,
        ...exposures.flatMap((e: any) => [e.client.id, ...e.path.map((p: any) => p.id)]),
      ]),
    );
    for (const other of ['Alpha Council', 'Gamma Borough', 'A-CAPITA-1', 'Outsourcer Ltd', 'exposed clients'])
      expect(drawn.text).not.toContain(other);
  });

  it('answers the same 404 for unknown, archived, mistyped and invisible ids, and 401 without a token', async () => {
    const get = async (urlPath: string, token: string | null) => {
      const response = await fetch(`${app.url}${urlPath}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const body = await response.text();
      return {
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        body,
        sqlStatements: Number(response.headers.get('x-sql-statements') ?? NaN),
      };
    };
    const svg = await get(`/suppliers/${ids.capita}/chain.svg`, app.adminToken);
    expect(svg.status).toBe(200);
    expect(svg.type).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toContain(`data-node-id="${ids.capita}"`);
    const map = await get(`/incidents/${incidentId}/exposure-map.svg`, app.adminToken);
    expect(map.status).toBe(200);
    expect(map.body).toContain(`data-node-id="${ids.clientA}"`);
    // Pinned, whatever the size of the chain: the supplier, both walks in one, the links, the contracts;
    // the incident, its exposures, their suppliers, their contracts.
    expect(svg.sqlStatements).toBe(4);
    expect(map.sqlStatements).toBe(4);
    expect((await get(`/suppliers/${ids.capita}/chain`, clientBToken)).sqlStatements).toBe(4);

    const unknownSupplier = encodeGlobalId('Supplier', '00000000-0000-4000-8000-000000000000');
    const unknownIncident = encodeGlobalId('Incident', '00000000-0000-4000-8000-000000000000');
    // A client with no exposure to the incident may not see it: the same 404 as an unknown one.
    const clientD = await createClient(app.services, { name: 'Delta Parish' });
    const clientDToken = await app.clientToken(clientD.id);
    const refusals = await Promise.all([
      get(`/suppliers/${unknownSupplier}/chain`, app.adminToken),
      get(`/suppliers/${ids.archived}/chain.svg`, app.adminToken),
      get(`/suppliers/${incidentId}/chain`, app.adminToken),
      get(`/suppliers/not-an-id/chain.svg`, app.adminToken),
      get(`/incidents/${unknownIncident}/exposure-map`, app.adminToken),
      get(`/incidents/${unknownIncident}/exposure-map.svg`, clientDToken),
      get(`/incidents/${incidentId}/exposure-map`, clientDToken),
      get(`/incidents/${incidentId}/exposure-map.svg`, clientDToken),
    ]);
    const shapes = refusals.map((r) => {
      const body = JSON.parse(r.body);
      return { status: r.status, code: body.errors[0].extensions.code };
    });
    for (const shape of shapes) expect(shape).toEqual({ status: 404, code: 'NOT_FOUND' });
    // The invisible incident answers exactly as the unknown one (the message names the kind, not the id).
    expect(JSON.parse(refusals[6].body).errors[0].message).toBe(
      JSON.parse(refusals[4].body).errors[0].message,
    );

    const anonymous = await get(`/incidents/${incidentId}/exposure-map`, null);
    expect(anonymous.status).toBe(401);
    const inQuery = await get(`/incidents/${incidentId}/exposure-map?access_token=${app.adminToken}`, null);
    expect(inQuery.status).toBe(401);
  });

  it('GraphiQL opens a picture with its current headers through a blob: URL, no token in any URL', async () => {
    const page = await context.newPage();
    const requests: { url: string; authorization?: string }[] = [];
    context.on('request', (request) =>
      requests.push({ url: request.url(), authorization: request.headers().authorization }),
    );
    try {
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${app.url}/graphiql`);
      await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
      // Put the admin token in GraphiQL's headers editor, as a user would.
      await page.evaluate((token: string) => {
        const editors = document.querySelectorAll('.graphiql-editor-tool .graphiql-editor');
        editors[1]
          .querySelector('.CodeMirror')
          .CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${token}` }));
      }, app.adminToken);
      await page.fill('#page-opener-path', incidentId);
      const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#page-opener button')]);
      await popup.waitForURL(/^blob:/, { timeout: 20000 });
      await popup.waitForSelector('svg g.node');
      await popup.screenshot({ path: path.join(SHOTS, 'graphiql-blob-exposure-map.png'), fullPage: true });
      const drawn = await drawnOn(popup);
      expect(drawn.nodes.has(ids.clientA)).toBe(true);
      expect(drawn.nodes.get(ids.aws)?.kind).toBe('supplier');
      const fetched = requests.find((r) => r.url === `${app.url}/incidents/${incidentId}/exposure-map`);
      expect(fetched?.authorization).toBe(`Bearer ${app.adminToken}`);
      for (const request of requests) expect(request.url).not.toContain(app.adminToken);
      await popup.close();
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
