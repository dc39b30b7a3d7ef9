import { spawn } from 'node:child_process';
import { ApiError } from '../errors.ts';
import { prepareStructuredSql } from './sql-prepare.ts';
import { STRUCTURED_CHILD_SOURCE } from './structured-child.ts';

/** One stored CSV row as the engine sees it: `csv_rows(file_id, row_id, data)`. */
export type StructuredRow = { fileId: string; rowId: number; data: Record<string, unknown> };

export type QueryResult = { columns: string[]; rows: unknown[][]; row_count: number; truncated: boolean };

export type EngineLimits = {
  /** Wall-clock bound; the engine process is killed past it. */
  timeoutMs: number;
  /** Rows returned at most (MAIA's implicit LIMIT). */
  maxRows: number;
  /** JSON bytes of returned rows at most (MAIA truncates at 100 KB). */
  maxBytes: number;
  /** Largest single string or blob a query may build. */
  maxValueBytes: number;
  /** Virtual memory of the engine process, in KiB (Linux `ulimit -v`). */
  memoryKiB: number;
};

export const DEFAULT_LIMITS: EngineLimits = {
  timeoutMs: 10_000,
  maxRows: 5000,
  maxBytes: 100_000,
  maxValueBytes: 10_000_000,
  memoryKiB: 1_600_000,
};

const invalid = (message: string) => new ApiError('invalid_request', message, 'sql');

/**
 * Runs a read-only SELECT over exactly `rows`, in a fresh SQLite database inside its own process:
 * nothing else is in reach, and the time, rows, bytes and memory it may use are bounded.
 */
export async function runStructuredQuery(
  rows: readonly StructuredRow[],
  sql: string,
  limits: EngineLimits = DEFAULT_LIMITS,
): Promise<QueryResult> {
  const prepared = prepareStructuredSql(sql);
  const input = JSON.stringify({
    sql: prepared,
    rows: rows.map((r) => [r.fileId, r.rowId, JSON.stringify(r.data)]),
    maxRows: limits.maxRows,
    maxBytes: limits.maxBytes,
    maxValueBytes: limits.maxValueBytes,
  });
  const out = await runChild(input, limits);
  if ('error' in out) throw invalid(`Query execution failed: ${cleanSqliteMessage(out.error)}`);
  return { columns: out.columns, rows: out.rows, row_count: out.rows.length, truncated: out.truncated };
}

type ChildOutput = { columns: string[]; rows: unknown[][]; truncated: boolean } | { error: string };

function runChild(input: string, limits: EngineLimits): Promise<ChildOutput> {
  const node = process.execPath;
  const args = ['--no-warnings', '--max-old-space-size=96', '-e', STRUCTURED_CHILD_SOURCE];
  // `ulimit -v` bounds what SQLite itself may allocate, which no Node option reaches.
  const child =
    process.platform === 'linux'
      ? spawn('/bin/sh', ['-c', `ulimit -v ${limits.memoryKiB} && exec "$0" "$@"`, node, ...args], {
          env: {},
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn(node, args, { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  const cap = limits.maxBytes * 4 + 1_000_000;
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let reason: 'timeout' | 'output' | null = null;
    const timer = setTimeout(() => {
      reason = 'timeout';
      child.kill('SIGKILL');
    }, limits.timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > cap) {
        reason = 'output';
        child.kill('SIGKILL');
      } else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4000) stderr += c.toString();
    });
    child.stdin.on('error', () => {}); // a child killed mid-input surfaces through 'close'
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (reason === 'timeout')
        return reject(invalid(`Query exceeded the ${limits.timeoutMs / 1000} s time limit and was stopped.`));
      if (reason === 'output') return reject(invalid('Query result exceeded the size limit.'));
      const text = Buffer.concat(out).toString('utf8');
      if (code === 0 && text) {
        try {
          return resolve(JSON.parse(text) as ChildOutput);
        } catch {}
      }
      if (/out of memory|heap/i.test(stderr) || code === 134 || code === null)
        return reject(invalid('Query exceeded the memory limit and was stopped.'));
      reject(new Error(`structured query engine exited with ${code}: ${stderr.slice(0, 500)}`));
    });
    child.stdin.end(input);
  });
}

function cleanSqliteMessage(message: string): string {
  if (/out of memory/i.test(message)) return 'the query exceeded the memory limit.';
  if (/not authorized|prohibited/i.test(message))
    return `${message} (only SELECT over the csv_rows table is allowed).`;
  return message;
}
