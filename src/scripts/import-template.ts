import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { CellValue } from '../modules/register-io/register-io.export';
import { writeXlsx } from '../modules/register-io/register-io.formats';
import { ColumnSpec, SHEETS, SHEET_NAMES } from '../modules/register-io/register-sheets';

/** The example of a column as the cell a person would type. */
function exampleCell(column: ColumnSpec): CellValue {
  if (column.type === 'boolean') return column.example === 'true';
  if (column.type === 'integer') return Number(column.example);
  if (column.type === 'date') return new Date(`${column.example}T00:00:00Z`);
  return column.example;
}

const CLOUD = { name: 'Example Cloud SARL', lei: '5493000EXAMPLE0CLD24', country: 'LU' };

/**
 * Writes docs/register-template.xlsx: every sheet with its header and one example row, written by the
 * export's own writer (npm run import:template). Importing it as it is creates the example register.
 */
async function main(): Promise<void> {
  const file = path.resolve(process.argv[2] ?? 'docs/register-template.xlsx');
  const out = createWriteStream(file);
  await writeXlsx(out, async (writer) => {
    for (const sheet of SHEET_NAMES) {
      const rows: CellValue[][] = [SHEETS[sheet].map(exampleCell)];
      // A second supplier, and a supplier-level link from the first to it (made-up identifiers).
      if (sheet === 'suppliers') rows.push([CLOUD.name, null, CLOUD.lei, CLOUD.country, 'CRITICAL', false]);
      if (sheet === 'subprocessors')
        rows[0].splice(4, 7, null, CLOUD.lei, CLOUD.name, CLOUD.country, null, null, null);
      await writer.sheet(
        sheet,
        (async function* () {
          yield rows;
        })(),
      );
    }
  });
  await finished(out);
  console.log(`Template written to ${file}`);
}

void main();
