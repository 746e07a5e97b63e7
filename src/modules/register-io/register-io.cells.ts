import { CellValue } from './register-io.export';
import { COMPANY_NUMBER, ColumnSpec, LEI } from './register-sheets';

/** A cell read as its column's type: the value the register stores, or what to fix. */
export type Parsed<T> = { value: T } | { problem: string };

/** What a parsed row holds: text, a boolean, a whole number, or a list; null when the cell is empty. */
export type FieldValue = string | number | boolean | string[] | null;

const CONTROL = /\p{Cc}/u;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONEY = /^\d{1,16}(\.\d{1,2})?$/;

/** How a cell is shown back in a problem: as the person typed it. */
export function shownValue(value: CellValue): string | null {
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid date' : value.toISOString();
  return String(value);
}

function text(value: CellValue): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).trim();
}

function listOf(value: CellValue): string[] {
  return text(value)
    .split(/[,;]/)
    .map((item) => item.trim().toUpperCase())
    .filter(Boolean);
}

function validDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1900 && year <= 9999 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Reads one cell for its column; null for an empty optional cell, a problem for an empty required one. */
export function parseCell(column: ColumnSpec, raw: CellValue): Parsed<FieldValue> {
  const empty = raw === null || (typeof raw === 'string' && raw.trim() === '');
  if (empty) {
    return column.required
      ? { problem: `${column.name} is required: ${column.description}` }
      : { value: column.type === 'enumList' || column.type === 'countryList' ? [] : null };
  }
  const value = raw as Exclude<CellValue, null>;
  switch (column.type) {
    case 'text': {
      const result = text(value);
      if (CONTROL.test(result)) return { problem: `${column.name} must not hold control characters` };
      if (column.maxLength && result.length > column.maxLength)
        return {
          problem: `${column.name} must be at most ${column.maxLength} characters (it has ${result.length})`,
        };
      return { value: result };
    }
    case 'enum': {
      const result = text(value).toUpperCase();
      return column.values!.includes(result)
        ? { value: result }
        : { problem: `${column.name} must be one of ${column.values!.join(', ')}` };
    }
    case 'enumList': {
      const items = listOf(value);
      const unknown = items.filter((item) => !column.values!.includes(item));
      if (unknown.length)
        return {
          problem: `${column.name} has ${unknown.join(', ')}, not among the allowed values: ${column.values!.join(', ')}`,
        };
      if (new Set(items).size !== items.length) return { problem: `${column.name} names a value twice` };
      if (column.required && items.length === 0)
        return { problem: `${column.name} must name at least one value` };
      return { value: items };
    }
    case 'countryList': {
      const items = listOf(value);
      const bad = items.filter((item) => !/^[A-Z]{2}$/.test(item));
      if (bad.length)
        return {
          problem: `${column.name} has ${bad.join(', ')}: each must be an ISO 3166-1 alpha-2 code such as GB`,
        };
      if (new Set(items).size !== items.length) return { problem: `${column.name} names a country twice` };
      return { value: items };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      const word = text(value).toLowerCase();
      if (['true', 'yes', 'y', '1'].includes(word)) return { value: true };
      if (['false', 'no', 'n', '0'].includes(word)) return { value: false };
      return { problem: `${column.name} must be true or false` };
    }
    case 'date': {
      const hint = `${column.name} must be a date as YYYY-MM-DD (or a date cell), such as ${column.example}`;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) return { problem: hint };
        const day = value.toISOString().slice(0, 10);
        const [, y, m, d] = DAY.exec(day) ?? [];
        return y && validDay(Number(y), Number(m), Number(d)) ? { value: day } : { problem: hint };
      }
      if (typeof value === 'number') {
        // A date cell whose format was lost reads as Excel's serial day number (1900 system, 25569 = 1970-01-01).
        if (!Number.isInteger(value) || value < 1 || value > 2_958_465) return { problem: hint };
        const day = new Date((value - 25569) * 86_400_000).toISOString().slice(0, 10);
        const [, y, m, d] = DAY.exec(day) ?? [];
        return y && validDay(Number(y), Number(m), Number(d)) ? { value: day } : { problem: hint };
      }
      const match = DAY.exec(text(value));
      if (!match || !validDay(Number(match[1]), Number(match[2]), Number(match[3]))) return { problem: hint };
      return { value: match[0] };
    }
    case 'money': {
      const hint = `${column.name} must be an amount of 0 or more with at most 2 decimals and no symbols, such as ${column.example}`;
      if (typeof value === 'number') {
        if (!Number.isFinite(value) || value < 0 || value >= 1e16) return { problem: hint };
        const cents = value * 100;
        if (Math.abs(cents - Math.round(cents)) > 1e-6 * Math.max(1, Math.abs(cents)))
          return { problem: hint };
        return { value: value.toFixed(2) };
      }
      const result = text(value);
      if (!MONEY.test(result)) return { problem: hint };
      const [whole, fraction = ''] = result.split('.');
      return { value: `${whole.replace(/^0+(?=\d)/, '')}.${fraction.padEnd(2, '0')}` };
    }
    case 'integer': {
      const hint = `${column.name} must be a whole number from 0 to 2000000000, such as ${column.example}`;
      const result =
        typeof value === 'number' ? value : /^\d+$/.test(text(value)) ? Number(text(value)) : NaN;
      return Number.isInteger(result) && result >= 0 && result <= 2_000_000_000
        ? { value: result }
        : { problem: hint };
    }
    case 'country':
    case 'currency': {
      const result = text(value).toUpperCase();
      const pattern = column.type === 'country' ? /^[A-Z]{2}$/ : /^[A-Z]{3}$/;
      return pattern.test(result)
        ? { value: result }
        : {
            problem:
              column.type === 'country'
                ? `${column.name} must be an ISO 3166-1 alpha-2 country code such as GB`
                : `${column.name} must be an ISO 4217 currency code such as GBP`,
          };
    }
    case 'companyNumber': {
      // A spreadsheet turns 02081330 into the number 2081330: put the leading zeros back.
      const result =
        typeof value === 'number' && Number.isInteger(value)
          ? String(value).padStart(8, '0')
          : text(value).toUpperCase();
      return COMPANY_NUMBER.test(result)
        ? { value: result }
        : {
            problem: `${column.name} must be a Companies House number: 8 digits, or 2 capitals and 6 digits, such as 02081330`,
          };
    }
    case 'lei': {
      const result = text(value).toUpperCase();
      return LEI.test(result)
        ? { value: result }
        : { problem: `${column.name} must be a 20-character LEI (18 letters or digits, then 2 digits)` };
    }
  }
}
