import { ApiError } from '../errors.ts';

/** Column metadata as MAIA keeps it in `attributes.structured.columns`. */
export type StructuredColumn = {
  normalized: string;
  original_header: string;
  inferred_type: 'text' | 'numeric' | 'boolean' | 'date' | 'timestamp';
  sample_values?: unknown[];
};

export type ParsedCsv = { columns: StructuredColumn[]; rows: Record<string, unknown>[] };

/** Rows kept per CSV file at most; larger files stay searchable but are not queryable as a table. */
export const MAX_STRUCTURED_ROWS = 1_000_000;

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new ApiError('invalid_file', 'CSV has an unterminated quoted field.');
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
}

/** MAIA's header rule: lowercase, non-alphanumerics to `_`, collapsed, trimmed; `col_` before a digit. */
export function normalizeColumnName(header: string): string {
  const name = header
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  return !name || /^[0-9]/.test(name) ? `col_${name}` : name;
}

/** Normalises headers; repeats get `_2`, `_3`, ... as in MAIA. */
export function normalizeColumns(headers: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h) => {
    const base = normalizeColumnName(h);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOL = /^(true|false)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

type Kind = StructuredColumn['inferred_type'];

function inferKind(values: string[]): Kind {
  const present = values.filter((v) => v !== '');
  if (present.length === 0) return 'text';
  const all = (re: RegExp) => present.every((v) => re.test(v));
  if (all(INT) && present.every((v) => Number.isSafeInteger(Number(v)))) return 'numeric';
  if (all(NUM)) return 'numeric';
  if (all(BOOL)) return 'boolean';
  if (all(DATE) && present.every((v) => !Number.isNaN(Date.parse(v)))) return 'date';
  if (all(TIMESTAMP)) return 'timestamp';
  return 'text';
}

function convert(v: string, kind: Kind): unknown {
  if (v === '') return null;
  if (kind === 'numeric') return Number(v);
  if (kind === 'boolean') return v.toLowerCase() === 'true';
  if (kind === 'timestamp') return v.replace(' ', 'T');
  return v;
}

/**
 * Parses a CSV the way MAIA's structured ingestion reports it: a header row, typed columns
 * (integers and decimals are `numeric`, as DuckDB's BIGINT/DOUBLE map there), up to three distinct
 * sample values per column, and one object per row keyed by the normalised names.
 */
export function parseStructuredCsv(text: string): ParsedCsv | null {
  const records = parseCsvRecords(text);
  if (records.length < 2) return null;
  const headers = records[0]!;
  const body = records.slice(1, MAX_STRUCTURED_ROWS + 1);
  if (body.some((r) => r.length !== headers.length)) return null; // ragged: searchable text only
  const names = normalizeColumns(headers);
  const kinds = headers.map((_, i) => inferKind(body.map((r) => r[i]!.trim())));
  const rows = body.map((r) =>
    Object.fromEntries(names.map((n, i) => [n, convert(r[i]!.trim(), kinds[i]!)])),
  );
  const columns = names.map((normalized, i): StructuredColumn => {
    const samples: unknown[] = [];
    for (const row of rows) {
      const v = row[normalized];
      if (v !== null && !samples.includes(v)) samples.push(v);
      if (samples.length === 3) break;
    }
    const col: StructuredColumn = { normalized, original_header: headers[i]!, inferred_type: kinds[i]! };
    if (samples.length) col.sample_values = samples;
    return col;
  });
  return { columns, rows };
}
