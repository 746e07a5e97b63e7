import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { TestApp, dataOf } from '../support/app';

export interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
}

/** GETs a page or file through the real server, with the bearer header as GraphiQL sends it. */
export async function getPage(app: TestApp, path: string, token: string | null): Promise<Fetched> {
  const response = await fetch(`${app.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, text: bytes.toString('utf8'), bytes };
}

export function csvRows(file: Fetched): Record<string, string>[] {
  return parse(file.bytes, { columns: true, bom: true }) as Record<string, string>[];
}

export async function xlsxRows(file: Fetched): Promise<Record<string, unknown>[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
  const sheet = workbook.getWorksheet('Exposures')!;
  const headers = (sheet.getRow(1).values as unknown[]).slice(1).map(String);
  const rows: Record<string, unknown>[] = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const values = (row.values as unknown[]).slice(1);
    rows.push(Object.fromEntries(headers.map((h, i) => [h, values[i]])));
  });
  return rows;
}

const EXPOSURE_FIELDS = `id score level specialCategoryData dataCategoriesAtRisk
  dataSubjectsAtRiskRange { low high } nextDueAt
  obligations { regime milestone status dueAt }
  client { id name } incident { id title }`;

/** Every exposure the token may see, page by page (the API's own answer, for comparing with the files). */
export async function exposuresVia(app: TestApp, token: string, incidentId?: string): Promise<any[]> {
  const all: any[] = [];
  let after: string | null = null;
  do {
    const data: any = dataOf(
      await app.gql(
        token,
        `query($after: String, $filter: ExposureFilter) { exposures(first: 20, after: $after, filter: $filter) {
          edges { node { ${EXPOSURE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { after, filter: incidentId ? { incidentId } : null },
      ),
    );
    all.push(...data.exposures.edges.map((e: any) => e.node));
    after = data.exposures.pageInfo.hasNextPage ? data.exposures.pageInfo.endCursor : null;
  } while (after);
  return all;
}

/** The demo's March 2023 attack at Capita (the incident the board report is shown with). */
export async function capitaIncident(app: TestApp): Promise<{ id: string; title: string }> {
  const data: any = dataOf(
    await app.gql(
      app.adminToken,
      `{ incidents(first: 20) { edges { node { id title supplier { name } } } } }`,
    ),
  );
  const incident = data.incidents.edges
    .map((e: any) => e.node)
    .find((i: any) => i.supplier.name === 'Capita plc' && i.title.startsWith('Cyber attack'));
  if (!incident) throw new Error('The demo has no Capita cyber attack');
  return incident;
}
