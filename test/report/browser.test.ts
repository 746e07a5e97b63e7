import fs from 'node:fs';
import path from 'node:path';
import { BrowserContext, Page } from 'playwright-core';
import { TestBrowser, launchTestBrowser } from '../support/browser';
import { loadDemoRegister } from '../../src/seed/demo';
import { mintToken } from '../../src/auth/jwt';
import { TEST_JWT_SECRET, TestApp, dataOf, startTestApp } from '../support/app';
import { csvRows } from './support';
import { capitaIncident, exposuresVia } from './support';

/**
 * The board report and the ICO draft of the demo's Capita incident in a real headless Chromium: the page
 * renders with no script and nothing fetched from elsewhere, prints to PDF, its charts have one mark per
 * figure, and its figures are the API's. The screenshot and PDF go to test/output/reports/ (gitignored),
 * for a person to look at.
 */
// Browser-side callbacks below run in the page, not in Node; the suite compiles without the DOM lib.
declare const document: any;

export const REPORT_OUTPUT_DIR = path.join(__dirname, '..', 'output', 'reports');

describe('board report and ICO draft (headless Chromium)', () => {
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let browser: TestBrowser | undefined;
  let capita: { id: string; title: string };
  let graphiqlToken: string;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // GraphiQL opens with an admin token in its headers, as the embedded demo's does.
    graphiqlToken = await mintToken(TEST_JWT_SECRET, { sub: 'graphiql-admin', role: 'admin' });
    app = await startTestApp({}, undefined, {
      graphiqlHeaders: { Authorization: `Bearer ${graphiqlToken}` },
    });
    await loadDemoRegister(app.database.db, app.services, () => undefined);
    capita = await capitaIncident(app);
    fs.mkdirSync(REPORT_OUTPUT_DIR, { recursive: true });
    browser = await launchTestBrowser('reports');
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    // As GraphiQL's opener does: the token in the Authorization header, never in the URL.
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${app.adminToken}` });
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows the figures the API returns, a bar per level with its count and a point per timeline event, and prints to PDF', async () => {
    const response = await page.goto(`${app.url}/incidents/${capita.id}/report`);
    expect(response?.status()).toBe(200);

    const api: any = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary {
          clientsExposed clientsWithSpecialCategoryData peopleAtRiskRange { low high } critical high medium low } } } }`,
        { id: capita.id },
      ),
    );
    const summary = api.node.exposureSummary;
    const exposures = await exposuresVia(app, app.adminToken, capita.id);
    const dues = exposures
      .map((e) => e.nextDueAt)
      .filter(Boolean)
      .sort();
    const overdue = exposures.flatMap((e) => e.obligations).filter((o: any) => o.status === 'OVERDUE').length;

    const figures: Record<string, string> = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('[data-figure]')].map((el: any) => [
          el.dataset.figure,
          el.dataset.value,
        ]),
      ),
    );
    expect(figures).toEqual({
      'clients-exposed': String(summary.clientsExposed),
      'people-at-risk': `${summary.peopleAtRiskRange.low}-${summary.peopleAtRiskRange.high}`,
      'special-category-clients': String(summary.clientsWithSpecialCategoryData),
      'nearest-obligation': dues[0] ?? '',
      'overdue-obligations': String(overdue),
    });
    expect(summary.clientsExposed).toBe(exposures.length);

    // The level chart: one bar per level, labelled with the API's count.
    const bars: string[] = await page.evaluate(() =>
      [...document.querySelectorAll('#chart-by-level svg .role-mark path[aria-roledescription="bar"]')].map(
        (el: any) => el.getAttribute('aria-label'),
      ),
    );
    expect(bars).toEqual([
      `Level: CRITICAL; Exposures: ${summary.critical}`,
      `Level: HIGH; Exposures: ${summary.high}`,
      `Level: MEDIUM; Exposures: ${summary.medium}`,
      `Level: LOW; Exposures: ${summary.low}`,
    ]);
    // The timeline: one point per row of its table (the incident's moments and the obligations due; the demo has
    // fewer than the 40 obligation groups the chart draws at most).
    const points = await page
      .locator('#chart-timeline svg .role-mark path[aria-roledescription="point"]')
      .count();
    const rows = await page.locator('#timeline tbody tr').count();
    expect(points).toBe(rows);
    expect(rows).toBeGreaterThanOrEqual(4);
    // The top exposures, highest first, as the API lists them.
    const top: string[] = await page.evaluate(() =>
      [...document.querySelectorAll('#top-exposures tbody tr')].map((el: any) => el.dataset.exposure),
    );
    expect(top).toEqual(exposures.slice(0, 10).map((e) => e.id));

    await page.screenshot({ path: path.join(REPORT_OUTPUT_DIR, 'board-report.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: path.join(REPORT_OUTPUT_DIR, 'board-report-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    fs.writeFileSync(path.join(REPORT_OUTPUT_DIR, 'board-report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
    await page.emulateMedia({ media: 'screen' });

    // Nothing but the page itself was requested, and no script ran into trouble.
    expect(requests.filter((url) => !url.startsWith(app.url))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("shows the ICO draft with the API's answers and their statuses", async () => {
    const [exposure] = await exposuresVia(app, app.adminToken, capita.id);
    const response = await page.goto(`${app.url}/exposures/${exposure.id}/ico-report`);
    expect(response?.status()).toBe(200);
    const api: any = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Exposure { icoReportDraft { answers { question answer status } } } } }`,
        { id: exposure.id },
      ),
    );
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll('tbody tr')].map((tr: any) => ({
        question: tr.querySelector('th').textContent,
        answer: tr.querySelector('td:nth-of-type(3) div').textContent,
        status: tr.dataset.status,
      })),
    );
    expect(shown).toEqual(api.node.icoReportDraft.answers);
    await page.screenshot({ path: path.join(REPORT_OUTPUT_DIR, 'ico-draft.png'), fullPage: true });
  });

  it("GraphiQL's bar opens a report with the tab's token as a blob: page, and a list as a download", async () => {
    const graphiql = await context.newPage();
    // This page sends no header of its own: the token can only come from GraphiQL's headers.
    const authorizations: (string | undefined)[] = [];
    graphiql.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/incidents/'))
        authorizations.push(request.headers()['authorization']);
    });
    await graphiql.goto(`${app.url}/graphiql`);
    await graphiql.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });

    await graphiql.fill('#page-opener-path', `/incidents/${capita.id}/report`);
    const [popup] = await Promise.all([context.waitForEvent('page'), graphiql.click('#page-opener button')]);
    await popup.waitForURL(/^blob:/, { timeout: 20000 });
    await popup.waitForSelector('[data-figure="clients-exposed"]');
    const summary: any = dataOf(
      await app.gql(
        app.adminToken,
        `query($id: ID!) { node(id: $id) { ... on Incident { exposureSummary { clientsExposed } } } }`,
        { id: capita.id },
      ),
    );
    expect(await popup.getAttribute('[data-figure="clients-exposed"]', 'data-value')).toBe(
      String(summary.node.exposureSummary.clientsExposed),
    );
    await popup.close();

    await graphiql.fill('#page-opener-path', `/incidents/${capita.id}/exposures.csv`);
    const [download] = await Promise.all([
      graphiql.waitForEvent('download'),
      graphiql.click('#page-opener button'),
    ]);
    expect(download.suggestedFilename()).toMatch(/^exposures-.*\.csv$/);
    const rows = csvRows({ bytes: fs.readFileSync((await download.path())!) } as any);
    expect(rows).toHaveLength(summary.node.exposureSummary.clientsExposed);

    // A refusal shows in the bar, not as a page.
    await graphiql.fill('#page-opener-path', '/incidents/nonsense/report');
    await graphiql.click('#page-opener button');
    await graphiql.waitForFunction(
      () => document.getElementById('page-opener-status').textContent.startsWith('404'),
      undefined,
      { timeout: 10000 },
    );
    expect(authorizations.length).toBeGreaterThanOrEqual(3);
    expect(new Set(authorizations)).toEqual(new Set([`Bearer ${graphiqlToken}`]));
    await graphiql.close();
  });
});
