/**
 * The program a structured query runs in: a separate Node process with an empty environment, an
 * in-memory SQLite database holding only the rows it was given, and an authorizer that lets a
 * statement read `csv_rows` (and json_each/json_tree over its values) and nothing else: no writes,
 * no ATTACH, no PRAGMA, no schema tables, no extensions. It is kept as source text so that it runs
 * the same from the sources, under vitest and inside the Lambda bundle.
 *
 * Input on stdin: {sql, rows: [file_id, row_id, data_json][], maxRows, maxBytes, maxValueBytes}.
 * Output on stdout: {columns, rows, truncated} or {error}.
 */
export const STRUCTURED_CHILD_SOURCE = String.raw`
'use strict';
const { DatabaseSync, constants: C } = require('node:sqlite');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  let out;
  try { out = run(JSON.parse(Buffer.concat(chunks).toString('utf8'))); }
  catch (err) { out = { error: String((err && err.message) || err) }; }
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
});

function run(input) {
  const db = new DatabaseSync(':memory:', {
    allowExtension: false,
    defensive: true,
    limits: { attach: 0, length: input.maxValueBytes, sqlLength: 100000, compoundSelect: 50, exprDepth: 200 },
  });
  db.exec('PRAGMA temp_store = MEMORY');
  db.exec('CREATE TABLE csv_rows (file_id TEXT NOT NULL, row_id INTEGER NOT NULL, data TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO csv_rows VALUES (?, ?, ?)');
  db.exec('BEGIN');
  for (const r of input.rows) insert.run(r[0], r[1], r[2]);
  db.exec('COMMIT');
  const readable = new Set(['csv_rows', 'json_each', 'json_tree']);
  const deniedFunctions = new Set(['load_extension', 'fts3_tokenizer', 'sqlite_compileoption_get', 'sqlite_compileoption_used']);
  db.setAuthorizer((action, a, b, c) => {
    if (action === C.SQLITE_SELECT || action === C.SQLITE_RECURSIVE) return C.SQLITE_OK;
    // A READ with no database is a CTE or subquery the statement itself defined.
    if (action === C.SQLITE_READ)
      return c === null || readable.has(String(a).toLowerCase()) ? C.SQLITE_OK : C.SQLITE_DENY;
    if (action === C.SQLITE_FUNCTION) return deniedFunctions.has(String(b).toLowerCase()) ? C.SQLITE_DENY : C.SQLITE_OK;
    return C.SQLITE_DENY;
  });
  const stmt = db.prepare(input.sql);
  stmt.setReadBigInts(true);
  stmt.setReturnArrays(true);
  const meta = stmt.columns();
  const isData = meta.map((c) => c.table === 'csv_rows' && c.column === 'data');
  const rows = [];
  let bytes = 0;
  let truncated = false;
  for (const raw of stmt.iterate()) {
    if (rows.length >= input.maxRows) { truncated = true; break; }
    const row = raw.map((v, i) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      if (isData[i] && typeof v === 'string') { try { return JSON.parse(v); } catch { return v; } }
      return v;
    });
    bytes += JSON.stringify(row).length;
    if (bytes > input.maxBytes) { truncated = true; break; }
    rows.push(row);
  }
  return { columns: meta.map((c) => c.name), rows, truncated };
}
`;
