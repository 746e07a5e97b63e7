import pino from 'pino';
import { BrowserContext, Page } from 'playwright-core';
import { TestBrowser, launchTestBrowser } from '../support/browser';
import { loadConfig } from '../../src/config';
import { mintToken } from '../../src/auth/jwt';
import { RunningServer, startServer } from '../../src/server';
import { createServices } from '../../src/services';
import { graphiqlPage, scriptSafeJson } from '../../src/graphiql/graphiql';
import { TEST_JWT_SECRET, testSchema } from '../support/app';
import { TestDatabase, createTestDatabase } from '../support/database';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';

/**
 * GraphiQL end to end: the real server (with the admin token GraphiQL opens with, as `npm start`
 * does for the embedded demo) and a real headless Chromium. The page must work on a closed
 * network, so every request the browser makes has to stay on this server.
 */
// Browser-side callbacks below run in the page, not in Node; the suite compiles without the DOM lib.
declare const document: any;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Replaces the query as a user pasting it would. GraphiQL parses the editor's text 100 ms after an
 * edit (debounced) and picks HTTP or WebSocket from that parse, so wait for it as a user's pause would.
 */
async function replaceQuery(
  page: Page,
  query: string,
  operation: 'query' | 'mutation' | 'subscription',
): Promise<void> {
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(query);
  await page.waitForFunction(
    ([text, kind]) => {
      const editor = document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror;
      return (
        editor?.getValue() === text &&
        editor.documentAST &&
        editor.operations?.length === 1 &&
        editor.operations[0].operation === kind
      );
    },
    [query, operation] as const,
    { timeout: 10000 },
  );
}

describe('GraphiQL page (headless Chromium)', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let adminToken: string;
  let context: BrowserContext;
  let page: Page;
  let browser: TestBrowser | undefined;
  let services: ReturnType<typeof createServices>;
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET });
    adminToken = await mintToken(TEST_JWT_SECRET, { sub: 'graphiql-admin', role: 'admin' });
    services = createServices(database.db);
    await createSupplier(services, { name: 'Capita plc </script><b>', country: 'GB' });
    server = await startServer(
      {
        config,
        db: database.db,
        schema: await testSchema(),
        services,
        logger: pino({ level: 'silent' }),
        graphiqlHeaders: { Authorization: `Bearer ${adminToken}` },
        databaseUrl: database.url,
      },
      0,
    );

    browser = await launchTestBrowser('graphiql');
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Content-Security-Policy violations and script errors are reported on the console; HTTP errors
    // are too, but the tests look at those responses themselves.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        consoleErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  it('opens with the default headers, runs a query and shows the result, using only this server', async () => {
    const response = await page.goto(`${server.url}/graphiql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['cache-control']).toBe('no-store');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // GraphiQL rendered and the headers editor holds the admin token.
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
    // The headers editor is the visible one in the editor tools, and opens already filled.
    const headersHandle = await page.waitForFunction(
      () =>
        document
          .querySelector(
            'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
          )
          ?.CodeMirror?.getValue() || false,
      undefined,
      { timeout: 20000 },
    );
    const headersText = (await headersHandle.jsonValue()) as string;
    expect(JSON.parse(headersText)).toEqual({ Authorization: `Bearer ${adminToken}` });

    // Replace the query, then run it with the button.
    const graphqlRequests: { authorization: string | undefined; body: string | null }[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql')
        graphqlRequests.push({ authorization: request.headers()['authorization'], body: request.postData() });
    });
    // GraphiQL opens with the ready-made tabs (src/graphiql/tabs.ts); a user's own query goes in a new tab.
    const tabTitles = await page.$$eval('.graphiql-tab', (tabs) =>
      tabs.map(
        (tab) =>
          tab.querySelector('.graphiql-tab-button')?.textContent?.trim() ??
          tab.textContent?.replace(/ icon$/, '').trim(),
      ),
    );
    expect(tabTitles).toEqual(expect.arrayContaining(['WhatIf', 'Concentration', 'WhoAmI', 'MyAlerts']));
    await page.click('.graphiql-tab-add');
    // The new tab must be the active one before typing: otherwise the query lands in the first tab, and
    // runs under that tab's operation name.
    await page.waitForFunction(
      (count) => {
        const tabs = document.querySelectorAll('.graphiql-tab');
        return tabs.length === count + 1 && tabs[tabs.length - 1].classList.contains('graphiql-tab-active');
      },
      tabTitles.length,
      { timeout: 10000 },
    );
    await replaceQuery(
      page,
      'query FirstSuppliers { suppliers(first: 5) { totalCount edges { node { name } } } }',
      'query',
    );
    // GraphiQL takes the operation name from its own state, which follows the editor after a debounce (under
    // load, after the first tab's name was still current): the tab's title shows when it has caught up.
    await page.waitForFunction(
      () => document.querySelector('.graphiql-tab-active')?.textContent?.includes('FirstSuppliers'),
      undefined,
      { timeout: 10000 },
    );
    await page.click('.graphiql-execute-button');

    await page.waitForFunction(
      () => document.querySelector('.graphiql-response')?.innerText.includes('Capita plc'),
      undefined,
      { timeout: 20000 },
    );
    const resultText = await page.evaluate(
      () => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue() as string,
    );
    expect(JSON.parse(resultText)).toEqual({
      data: { suppliers: { totalCount: 1, edges: [{ node: { name: 'Capita plc </script><b>' } }] } },
    });

    const run = graphqlRequests.find((r) => r.body?.includes('suppliers(first: 5)'));
    expect(run?.authorization).toBe(`Bearer ${adminToken}`);

    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const offSite = requests.filter((url) => {
      const parsed = new URL(url);
      if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return false;
      return !LOCAL_HOSTS.has(parsed.hostname);
    });
    expect(offSite).toEqual([]);
    expect(requests.some((url) => url.includes('/graphiql/static/graphiql@'))).toBe(true);
  });

  it('runs a subscription over WebSocket with the token from the headers editor', async () => {
    const supplier = await createSupplier(services, { name: 'Subscribed Supplier Ltd' });
    const client = await createClient(services, { name: 'Borough of GraphiQL' });
    await createAgreement(services, (await createContract(services, client.id, supplier.id)).id);

    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${server.url}/graphiql`);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
    await replaceQuery(
      page,
      'subscription { exposureAlerts { kind exposure { client { name } } } }',
      'subscription',
    );
    await page.click('.graphiql-execute-button');

    // Only alerts committed after the subscription is registered are delivered live.
    const started = Date.now();
    while (server.alertHub.subscriberCount < 1) {
      if (Date.now() - started > 20000)
        throw new Error(
          `GraphiQL's subscription never reached the server (result pane: ${await page.locator('.graphiql-response').innerText()})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await recordIncident(services, supplier.id);
    await page.waitForFunction(
      () => document.querySelector('.graphiql-response')?.innerText.includes('Borough of GraphiQL'),
      undefined,
      { timeout: 20000 },
    );
    expect(sockets.map((url) => new URL(url).host)).toEqual([new URL(server.url).host]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('loads the schema, so the documentation explorer shows the API (GraphiQL is the manual)', async () => {
    const introspection = page.waitForResponse(
      (r) =>
        new URL(r.url()).pathname === '/graphql' &&
        (r.request().postData() ?? '').includes('IntrospectionQuery'),
      { timeout: 20000 },
    );
    await page.goto(`${server.url}/graphiql`);
    const response = await introspection;
    if (response.status() !== 200)
      throw new Error(
        `GraphiQL's introspection query was refused (HTTP ${response.status()}): ${await response.text()}`,
      );
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name >> text=Query');
    await page.waitForFunction(
      () => /\bsuppliers\b/.test(document.querySelector('.graphiql-doc-explorer')?.innerText ?? ''),
      undefined,
      { timeout: 20000 },
    );
    expect(await page.locator('.graphiql-doc-explorer-error').count()).toBe(0);
  });

  it('serves the bundles from the packages and refuses unknown asset names', async () => {
    const html = await (await fetch(`${server.url}/graphiql`)).text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((source) => !source.startsWith('data:'));
    expect(sources.length).toBeGreaterThanOrEqual(5);
    for (const source of sources) {
      expect(source.startsWith('/graphiql/static/')).toBe(true);
      const asset = await fetch(`${server.url}${source}`);
      expect(asset.status).toBe(200);
    }
    expect((await fetch(`${server.url}/graphiql/static/graphiql@0.0.0/graphiql.min.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/graphiql/static/graphiql@x/..%2Fpackage.json`)).status).toBe(404);
  });
});

describe('GraphiQL page settings', () => {
  it('embeds headers so that no value can close the script element', () => {
    const hostile = { Authorization: 'Bearer x</script><script>alert(1)</script>\u2028<!--' };
    const html = graphiqlPage(
      '/graphiql/static',
      { css: [], scripts: [] },
      { endpoint: '/graphql', defaultHeaders: JSON.stringify(hostile) },
    );
    const block = /<script type="application\/json" id="graphiql-config">([\s\S]*?)<\/script>/.exec(html);
    expect(block).not.toBeNull();
    expect(block![1]).not.toMatch(/<|>/);
    expect(JSON.parse(JSON.parse(block![1]).defaultHeaders)).toEqual(hostile);
    expect(scriptSafeJson('a\u2029b')).toBe('"a\\u2029b"');
  });
});
