import { decodeGlobalId } from '../../src/common/global-id';
import { loadDemoRegister } from '../../src/seed/demo';
import { DEMO_CLIENTS } from '../../src/seed/demo-data';
import { DataCategory, IncidentStatus } from '../../src/common/enums';
import { TestApp, dataOf, startTestApp } from '../support/app';
import {
  createAgreement,
  createClient,
  createContract,
  createSupplier,
  recordIncident,
} from '../support/factories';
import { capitaIncident, csvRows, exposuresVia, getPage, xlsxRows } from './support';

/**
 * The reports through the real HTTP server on the demo register: the ICO draft (GraphQL and page), the
 * board report, the CSV/XLSX lists; who may see what (a client only its own), escaping, and the 404s.
 */
const HOSTILE = '<img src=x onerror=alert(1)>=HYPERLINK("http://evil")';
const clientNames = Object.values(DEMO_CLIENTS).map((c) => c.name);

describe('reports', () => {
  let app: TestApp;
  let capita: { id: string; title: string };
  let adminExposures: any[];
  let hostile: { clientId: string; incidentId: string };

  beforeAll(async () => {
    app = await startTestApp();
    await loadDemoRegister(app.database.db, app.services, () => undefined);
    capita = await capitaIncident(app);
    adminExposures = await exposuresVia(app, app.adminToken, capita.id);
    // A client and supplier whose names are markup and a spreadsheet formula: every output must keep them inert.
    const supplier = await createSupplier(app.services, { name: `Supplier ${HOSTILE}` });
    const client = await createClient(app.services, { name: `=1+2 ${HOSTILE} council` });
    const contract = await createContract(app.services, client.id, supplier.id);
    await createAgreement(app.services, contract.id, { dataCategories: [DataCategory.HEALTH] });
    const incident = await recordIncident(app.services, supplier.id, {
      title: `Breach ${HOSTILE}`,
      status: IncidentStatus.CONFIRMED,
    });
    hostile = { clientId: client.id, incidentId: incident.incident!.id };
  });
  afterAll(() => app.stop());

  const clientIdOf = (exposure: any) => decodeGlobalId(exposure.client.id)!.id;

  describe('Exposure.icoReportDraft', () => {
    it("answers the ICO form's questions, PREFILLED with a basis or TO_COMPLETE with a hint, from the exposure's facts", async () => {
      const exposure = adminExposures[0];
      const data: any = dataOf(
        await app.gql(
          app.adminToken,
          `query($id: ID!) { node(id: $id) { ... on Exposure { icoReportDraft { answers { question answer status basis } } } } }`,
          { id: exposure.id },
        ),
      );
      const answers: any[] = data.node.icoReportDraft.answers;
      expect(answers.length).toBeGreaterThanOrEqual(12);
      for (const a of answers) {
        expect(a.question).toEqual(expect.any(String));
        if (a.status === 'PREFILLED') expect(a.basis).toEqual(expect.any(String));
        else {
          expect(a.status).toBe('TO_COMPLETE');
          expect(a.basis).toBeNull();
          expect(a.answer).toEqual(expect.any(String));
        }
      }
      const byQuestion = new Map(answers.map((a) => [a.question, a]));
      const subjects = byQuestion.get('How many data subjects could be affected?');
      expect(subjects.status).toBe('PREFILLED');
      const { low, high } = exposure.dataSubjectsAtRiskRange;
      expect(subjects.answer).toContain(high.toLocaleString('en-GB'));
      expect(subjects.answer).toContain(low.toLocaleString('en-GB'));
      // The March 2023 attack: a cyber attack, started 22 March, at Capita (the client's processor).
      expect(byQuestion.get('Was the breach caused by a cyber incident?').answer).toBe('Yes');
      expect(byQuestion.get('When did the breach happen?').answer).toContain('2023-03-22 00:00 UTC');
      expect(byQuestion.get('Was a processor or sub-processor involved? Which ones?').answer).toContain(
        'Capita plc',
      );
      // What the register cannot know stays to be completed.
      expect(byQuestion.get('Number of personal data records concerned?').status).toBe('TO_COMPLETE');
    });

    it('is the same draft for the client itself, and another client cannot reach the exposure', async () => {
      const exposure = adminExposures[0];
      const query = `query($id: ID!) { node(id: $id) { ... on Exposure { icoReportDraft { answers { question answer status basis } } } } }`;
      const admin: any = dataOf(await app.gql(app.adminToken, query, { id: exposure.id }));
      const own: any = dataOf(
        await app.gql(await app.clientToken(clientIdOf(exposure)), query, { id: exposure.id }),
      );
      expect(own.node.icoReportDraft).toEqual(admin.node.icoReportDraft);
      const other: any = dataOf(
        await app.gql(await app.clientToken(hostile.clientId), query, { id: exposure.id }),
      );
      expect(other.node).toBeNull();
    });
    it('is the same on a page of exposures that selects nothing else (a page reads only the columns it needs)', async () => {
      const draft = `icoReportDraft { answers { question answer status basis } }`;
      const page: any = dataOf(
        await app.gql(
          app.adminToken,
          `query($id: ID!) { node(id: $id) { ... on Incident { exposures(first: 50) { edges { node { ${draft} } } } } } }`,
          { id: capita.id },
        ),
      );
      const whole: any = dataOf(
        await app.gql(
          app.adminToken,
          `query($id: ID!) { nodes: exposures(first: 50, filter: { incidentId: $id }) { edges { node { id score level awareAt dataAwareAt path { id } contracts { id } dataCategoriesAtRisk ${draft} } } } }`,
          { id: capita.id },
        ),
      );
      expect(page.node.exposures.edges.map((e: any) => e.node.icoReportDraft)).toEqual(
        whole.nodes.edges.map((e: any) => e.node.icoReportDraft),
      );
    });
  });

  describe('Exposure.icoReportDraft after decisions', () => {
    it("takes the report type, consequences, containment and telling the people from the client's recorded decisions", async () => {
      const supplier = await createSupplier(app.services, { name: 'Decided Supplier Ltd' });
      const client = await createClient(app.services, { name: 'Decided Council' });
      const contract = await createContract(app.services, client.id, supplier.id);
      await createAgreement(app.services, contract.id, { dataCategories: [DataCategory.CHILDREN] });
      const { incident } = await recordIncident(app.services, supplier.id, { startedAt: null });
      const [exposure] = await exposuresVia(app, app.adminToken, encodeIncident(incident!.id));
      const token = await app.clientToken(client.id);
      const decide = (input: Record<string, unknown>) =>
        app.gql(
          token,
          `mutation($input: RecordNotificationDecisionInput!) { recordNotificationDecision(input: $input) { userErrors { message } } }`,
          { input: { exposureId: exposure.id, ...input } },
        );
      const draft = async () => {
        const data: any = dataOf(
          await app.gql(
            token,
            `query($id: ID!) { node(id: $id) { ... on Exposure { icoReportDraft { answers { question answer status basis } } } } }`,
            { id: exposure.id },
          ),
        );
        return new Map<string, any>(data.node.icoReportDraft.answers.map((a: any) => [a.question, a]));
      };

      const before = await draft();
      expect(before.get('Report type: initial report or follow-up report?').answer).toBe('Initial report');
      expect(before.get('When did the breach happen?').status).toBe('TO_COMPLETE');
      expect(before.get('Potential consequences of the breach').status).toBe('TO_COMPLETE');
      expect(before.get('Categories of data subjects affected').answer).toContain('Children');

      const reportedAt = new Date(Date.now() - 60_000).toISOString();
      expect(
        dataOf(
          await decide({
            status: 'REPORTED',
            reportedAt,
            reference: 'ICO-CASE-42',
            effects: 'Pupils could be contacted by fraudsters.',
            remedialAction: 'Passwords reset for every account.',
          }),
        ).recordNotificationDecision.userErrors,
      ).toEqual([]);
      expect(
        dataOf(await decide({ status: 'REPORTED', reportedAt, milestone: 'DATA_SUBJECTS' }))
          .recordNotificationDecision.userErrors,
      ).toEqual([]);

      const after = await draft();
      const type = after.get('Report type: initial report or follow-up report?');
      expect(type.answer).toBe('Follow-up report (ICO case reference ICO-CASE-42)');
      expect(type.basis).toContain('REPORTED');
      expect(after.get('Potential consequences of the breach')).toMatchObject({
        status: 'PREFILLED',
        answer: 'Pupils could be contacted by fraudsters.',
      });
      expect(
        after.get('What have you done, or will you do, to contain the breach and reduce its effects?'),
      ).toMatchObject({
        status: 'PREFILLED',
        answer: 'Passwords reset for every account.',
      });
      expect(after.get('Have you told data subjects about the breach?')).toMatchObject({
        status: 'PREFILLED',
        answer: `Yes, on ${reportedAt.slice(0, 16).replace('T', ' ')} UTC.`,
      });
    });
  });

  describe('/exposures/<id>/ico-report', () => {
    it('prints the draft as HTML with no script, behind the bearer token, with a request id', async () => {
      const exposure = adminExposures[0];
      const page = await getPage(app, `/exposures/${exposure.id}/ico-report`, app.adminToken);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('x-request-id')).toEqual(expect.any(String));
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.text).not.toMatch(/<script/i);
      expect(page.text).toContain(exposure.client.name);
      expect(page.text).toContain('How many data subjects could be affected?');

      expect((await getPage(app, `/exposures/${exposure.id}/ico-report`, null)).status).toBe(401);
      expect((await getPage(app, `/exposures/${exposure.id}/ico-report`, 'not-a-token')).status).toBe(401);
    });

    it("gives a client its own exposure's draft and a 404 for anyone else's or an unknown id", async () => {
      const exposure = adminExposures[0];
      const ownToken = await app.clientToken(clientIdOf(exposure));
      const own = await getPage(app, `/exposures/${exposure.id}/ico-report`, ownToken);
      expect(own.status).toBe(200);
      for (const name of clientNames.filter((n) => n !== exposure.client.name))
        expect(own.text).not.toContain(name);

      const other = await getPage(
        app,
        `/exposures/${exposure.id}/ico-report`,
        await app.clientToken(hostile.clientId),
      );
      const unknown = await getPage(
        app,
        `/exposures/${encodeURIComponent('RXhwb3N1cmU6bm9wZQ')}/ico-report`,
        app.adminToken,
      );
      const wrongType = await getPage(app, `/exposures/${capita.id}/ico-report`, app.adminToken);
      for (const refused of [other, unknown, wrongType]) {
        expect(refused.status).toBe(404);
        expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('NOT_FOUND');
      }
      // The same answer, so a 404 says nothing of whether the exposure exists.
      expect(JSON.parse(other.text).errors[0].message).toBe(JSON.parse(unknown.text).errors[0].message);
    });

    it('escapes every value from the register', async () => {
      const [exposure] = await exposuresVia(app, app.adminToken, encodeIncident(hostile.incidentId));
      const page = await getPage(app, `/exposures/${exposure.id}/ico-report`, app.adminToken);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });
  });

  describe('/incidents/<id>/report', () => {
    it("holds a client's own exposure only, and is a 404 for an incident it is not exposed to", async () => {
      const exposure = adminExposures.find((e) => e.client.name === 'Colchester City Council')!;
      const token = await app.clientToken(clientIdOf(exposure));
      const page = await getPage(app, `/incidents/${capita.id}/report`, token);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Colchester City Council');
      for (const name of clientNames.filter((n) => n !== 'Colchester City Council'))
        expect(page.text).not.toContain(name);
      for (const other of adminExposures.filter((e) => e.id !== exposure.id))
        expect(page.text).not.toContain(other.id);
      expect(page.text).toContain('data-figure="clients-exposed" data-value="1">1<');

      expect(
        (await getPage(app, `/incidents/${encodeIncident(hostile.incidentId)}/report`, token)).status,
      ).toBe(404);
      expect((await getPage(app, `/incidents/nonsense/report`, app.adminToken)).status).toBe(404);
    });

    it('escapes the incident, supplier and client names', async () => {
      const page = await getPage(
        app,
        `/incidents/${encodeIncident(hostile.incidentId)}/report`,
        app.adminToken,
      );
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('Breach &lt;img src=x onerror=alert(1)&gt;');
    });
  });

  describe('an incident nobody is exposed to', () => {
    it('has a board report of zeros and a list with its header only', async () => {
      const supplier = await createSupplier(app.services);
      const { incident } = await recordIncident(app.services, supplier.id);
      const id = encodeIncident(incident!.id);
      const page = await getPage(app, `/incidents/${id}/report`, app.adminToken);
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-figure="clients-exposed" data-value="0"');
      expect(page.text).toContain('data-figure="overdue-obligations" data-value="0"');
      const csv = await getPage(app, `/incidents/${id}/exposures.csv`, app.adminToken);
      expect(csv.status).toBe(200);
      expect(csvRows(csv)).toEqual([]);
      expect(csv.text).toContain('Exposure ID');
      expect(await xlsxRows(await getPage(app, `/incidents/${id}/exposures.xlsx`, app.adminToken))).toEqual(
        [],
      );
      // A client is exposed to none of it, so for a client it does not exist.
      const token = await app.clientToken(hostile.clientId);
      expect((await getPage(app, `/incidents/${id}/report`, token)).status).toBe(404);
    });
  });

  describe('exposure lists', () => {
    const columns = (row: Record<string, unknown>) => ({
      id: row['Exposure ID'],
      client: row['Client'],
      level: row['Level'],
      score: Number(row['Score']),
      low: Number(row['People at risk (low)']),
      high: Number(row['People at risk (high)']),
      nextDue: row['Next due (UTC)'] || null,
    });
    const expected = (e: any) => ({
      id: e.id,
      client: e.client.name,
      level: e.level,
      score: e.score,
      low: e.dataSubjectsAtRiskRange.low,
      high: e.dataSubjectsAtRiskRange.high,
      nextDue: e.nextDueAt,
    });

    it('CSV and XLSX of an incident hold every exposure the API shows, with the same figures', async () => {
      const csv = await getPage(app, `/incidents/${capita.id}/exposures.csv`, app.adminToken);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="exposures-.*\.csv"/);
      expect(csv.headers.get('x-request-id')).toEqual(expect.any(String));
      expect(csvRows(csv).map(columns)).toEqual(adminExposures.map(expected));

      const xlsx = await getPage(app, `/incidents/${capita.id}/exposures.xlsx`, app.adminToken);
      expect(xlsx.status).toBe(200);
      expect(xlsx.bytes.subarray(0, 2).toString()).toBe('PK');
      expect((await xlsxRows(xlsx)).map(columns)).toEqual(adminExposures.map(expected));
    });

    it("a client's CSV and XLSX hold its own exposure and nothing of another client", async () => {
      const exposure = adminExposures.find((e) => e.client.name === 'Coventry City Council')!;
      const token = await app.clientToken(clientIdOf(exposure));
      for (const format of ['csv', 'xlsx'] as const) {
        const file = await getPage(app, `/incidents/${capita.id}/exposures.${format}`, token);
        expect(file.status).toBe(200);
        const rows = format === 'csv' ? csvRows(file) : await xlsxRows(file);
        expect(rows.map(columns)).toEqual([expected(exposure)]);
        const text = format === 'csv' ? file.text : JSON.stringify(rows);
        for (const name of clientNames.filter((n) => n !== 'Coventry City Council'))
          expect(text).not.toContain(name);
      }
      const all = csvRows(await getPage(app, '/exposures.csv', token));
      expect(new Set(all.map((r) => r['Client']))).toEqual(new Set(['Coventry City Council']));
      const overdue = csvRows(await getPage(app, '/exposures.csv?overdue=true', token));
      expect(overdue.length).toBeGreaterThan(0);
      expect(new Set(overdue.map((r) => r['Client']))).toEqual(new Set(['Coventry City Council']));
      // Another client's incident and an unknown one answer alike.
      const invisible = await getPage(
        app,
        `/incidents/${encodeIncident(hostile.incidentId)}/exposures.xlsx`,
        token,
      );
      const unknown = await getPage(
        app,
        `/incidents/${encodeIncident('00000000-0000-4000-8000-000000000000')}/exposures.xlsx`,
        token,
      );
      expect([invisible.status, unknown.status]).toEqual([404, 404]);
      expect(JSON.parse(invisible.text).errors[0].message).toBe(JSON.parse(unknown.text).errors[0].message);
      expect(
        (await getPage(app, `/incidents/${encodeIncident(hostile.incidentId)}/exposures.csv`, token)).status,
      ).toBe(404);
    });

    it('/exposures.csv?overdue=true lists, across incidents, exactly the exposures with an overdue obligation', async () => {
      const all = await exposuresVia(app, app.adminToken);
      const overdue = all.filter((e) => e.obligations.some((o: any) => o.status === 'OVERDUE'));
      expect(overdue.length).toBeGreaterThan(0);
      expect(overdue.length).toBeLessThan(all.length);
      const file = await getPage(app, '/exposures.csv?overdue=true', app.adminToken);
      expect(file.status).toBe(200);
      const rows = csvRows(file);
      expect(rows.map((r) => r['Exposure ID']).sort()).toEqual(overdue.map((e) => e.id).sort());
      for (const row of rows) expect(row['Overdue obligations']).not.toBe('');
      expect(csvRows(await getPage(app, '/exposures.csv', app.adminToken)).length).toBe(all.length);
      expect((await getPage(app, '/exposures.csv?overdue=maybe', app.adminToken)).status).toBe(400);
    });

    it('keeps a formula typed into a name from running in a spreadsheet', async () => {
      const csv = await getPage(
        app,
        `/incidents/${encodeIncident(hostile.incidentId)}/exposures.csv`,
        app.adminToken,
      );
      const [row] = csvRows(csv);
      // A cell starting with "=" gets an apostrophe (OWASP's CSV injection advice); the others are as typed.
      expect(row!['Client']).toBe(`'=1+2 ${HOSTILE} council`);
      expect(row!['Incident']).toBe(`Breach ${HOSTILE}`);
      expect(row!['Supply chain']).toBe(`Supplier ${HOSTILE}`);
      // XLSX cells are typed text: the name as typed, which a spreadsheet never runs as a formula.
      const [cell] = await xlsxRows(
        await getPage(app, `/incidents/${encodeIncident(hostile.incidentId)}/exposures.xlsx`, app.adminToken),
      );
      expect(cell!['Client']).toBe(`=1+2 ${HOSTILE} council`);
    });
  });
});

function encodeIncident(id: string): string {
  return Buffer.from(`Incident:${id}`, 'utf8').toString('base64url');
}

describe('reports and the rate limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => app.stop());

  it('count against the token subject as GraphQL requests do', async () => {
    const token = await app.token('analyst', { sub: 'rate-limited-reader' });
    const statuses: number[] = [];
    for (const path of ['/exposures.csv', '/exposures.csv?overdue=true', '/incidents/nonsense/report'])
      statuses.push((await getPage(app, path, token)).status);
    expect(statuses).toEqual([200, 200, 404]);
    const refused = await getPage(app, '/exposures.csv', token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toEqual(expect.any(String));
    expect(refused.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('RATE_LIMITED');
  });
});
