import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { DEFAULT_LIMITS, runStructuredQuery, type StructuredRow } from './structured-engine.ts';

const rows: StructuredRow[] = [
  { fileId: 'file-a', rowId: 1, data: { name: 'Alice', age: 30, city: 'Austin', salary: 75000 } },
  { fileId: 'file-a', rowId: 2, data: { name: 'Bob', age: 25, city: 'Dallas', salary: 65000 } },
  { fileId: 'file-a', rowId: 3, data: { name: 'Charlie', age: 35, city: 'Houston', salary: 90000 } },
];

async function refused(sql: string, data = rows, limits = DEFAULT_LIMITS): Promise<string> {
  const err = await runStructuredQuery(data, sql, limits).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(400);
  expect((err as ApiError).param).toBe('sql');
  return (err as ApiError).message;
}

describe('structured query engine', () => {
  it("runs MAIA's documented Postgres spelling: ->> and ::numeric casts", async () => {
    const r = await runStructuredQuery(
      rows,
      "SELECT data->>'name' AS name, (data->>'salary')::numeric AS salary FROM csv_rows " +
        "WHERE file_id = 'file-a' AND (data->>'salary')::numeric > 70000 ORDER BY salary DESC",
    );
    expect(r).toEqual({
      columns: ['name', 'salary'],
      rows: [
        ['Charlie', 90000],
        ['Alice', 75000],
      ],
      row_count: 2,
      truncated: false,
    });
  });

  it('returns the data column as the JSON object and aggregates', async () => {
    const all = await runStructuredQuery(rows, 'SELECT data FROM csv_rows ORDER BY row_id');
    expect(all.rows[0]).toEqual([rows[0]!.data]);
    const agg = await runStructuredQuery(
      rows,
      "SELECT data->>'city' AS city, COUNT(*) AS total, AVG((data->>'age')::int) FROM csv_rows GROUP BY 1 ORDER BY 1;",
    );
    expect(agg.rows).toEqual([
      ['Austin', 1, 30],
      ['Dallas', 1, 25],
      ['Houston', 1, 35],
    ]);
    const nested = await runStructuredQuery(
      rows,
      "SELECT COUNT(*) FROM csv_rows WHERE (data->>'salary')::numeric > (SELECT AVG((data->>'salary')::numeric) FROM csv_rows)",
    );
    expect(nested.rows).toEqual([[1]]);
  });

  it('sees only the rows it was given: no other file, no other table, no schema', async () => {
    const r = await runStructuredQuery(rows, "SELECT COUNT(*) FROM csv_rows WHERE file_id = 'file-b'");
    expect(r.rows).toEqual([[0]]);
    expect(await refused('SELECT * FROM sqlite_master')).toMatch(/prohibited|not authorized/);
    expect(await refused('SELECT * FROM sqlite_schema')).toMatch(/prohibited|not authorized/);
    expect(await refused('SELECT * FROM files')).toMatch(/no such table/);
    expect(await refused('SELECT * FROM chunks')).toMatch(/no such table/);
    expect(await refused('SELECT * FROM public.files')).toMatch(/unknown database|no such table/);
    expect(await refused("SELECT * FROM pragma_table_info('csv_rows')")).toMatch(/not authorized|prohibited/);
  });

  it('refuses every write and schema change, and the rows stay as they were', async () => {
    for (const sql of [
      'DROP TABLE csv_rows',
      'DELETE FROM csv_rows WHERE 1=1',
      "INSERT INTO csv_rows VALUES ('a', 1, '{}')",
      "UPDATE csv_rows SET data = '{}'",
      'CREATE TABLE x (a)',
      'ALTER TABLE csv_rows RENAME TO y',
      'WITH x AS (SELECT 1) DELETE FROM csv_rows',
      'PRAGMA writable_schema = 1',
      'VACUUM',
      'REINDEX',
    ])
      await refused(sql);
    expect(await refused('SELECT 1; DROP TABLE csv_rows')).toMatch(/single SQL statement/);
    expect(await refused('SELECT 1 /* ; */; -- x\n DELETE FROM csv_rows')).toMatch(/single SQL statement/);
    const after = await runStructuredQuery(rows, 'SELECT COUNT(*) FROM csv_rows');
    expect(after.rows).toEqual([[3]]);
  });

  it('refuses ATTACH, extensions and file access', async () => {
    expect(await refused("ATTACH DATABASE '/tmp/x.db' AS x")).toMatch(/SELECT/);
    expect(await refused("SELECT load_extension('/tmp/evil.so')")).toMatch(/not authorized/);
    expect(
      await refused("SELECT * FROM csv_rows WHERE sqlite_compileoption_used('ENABLE_LOAD_EXTENSION')"),
    ).toMatch(/not authorized/);
    // readfile/writefile/edit belong to the sqlite3 shell, not the library: they do not exist here.
    expect(await refused("SELECT readfile('/etc/passwd')")).toMatch(/no such function/);
    expect(await refused("SELECT writefile('/tmp/x', 'y')")).toMatch(/no such function/);
  });

  it('bounds huge results by rows and bytes and says so', async () => {
    const many = await runStructuredQuery(
      rows,
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n',
    );
    expect(many.row_count).toBe(DEFAULT_LIMITS.maxRows);
    expect(many.truncated).toBe(true);
    const wide = await runStructuredQuery(
      rows,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT i, printf('%.2000c', 'x') FROM n",
    );
    expect(wide.truncated).toBe(true);
    expect(JSON.stringify(wide.rows).length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBytes + 100);
    expect(await refused('SELECT length(randomblob(50000000))')).toMatch(/too big/);
  });

  it('stops long-running queries at the time limit', async () => {
    const message = await refused(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n',
      rows,
      { ...DEFAULT_LIMITS, timeoutMs: 1000 },
    );
    expect(message).toMatch(/time limit/);
  });

  it.runIf(process.platform === 'linux')('stops queries that would exhaust memory', async () => {
    const message = await refused(
      // Sorting 400 blobs of 5 MB needs 2 GB at once.
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) ' +
        'SELECT i, randomblob(5000000) AS b FROM n ORDER BY b',
      rows,
      { ...DEFAULT_LIMITS, timeoutMs: 60_000 },
    );
    expect(message).toMatch(/memory limit/);
  });

  it('refuses what is not one SELECT with a clear message', async () => {
    expect(await refused('')).toMatch(/empty/);
    expect(await refused('EXPLAIN SELECT 1')).toMatch(/Only SELECT/);
    expect(await refused("SELECT 'unterminated")).toMatch(/Unterminated/);
    expect(await refused('SELECT nope FROM csv_rows')).toMatch(/no such column/);
    expect(await refused("SELECT data @> '{}' FROM csv_rows")).toMatch(/syntax|unrecognized/);
    expect(await refused('SELECT x::regclass FROM csv_rows')).toMatch(/regclass/);
    expect(await refused(`SELECT ${'1,'.repeat(6000)}1`)).toMatch(/longer than/);
  });
});
