import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TEMP_DIR } from './blobs/local.ts';
import type { BlobStore } from './blobs/store.ts';
import type { Sql } from './db/client.ts';
import { describeDraft, orphanDrafts, removeDrafts } from './doctor-drafts.ts';
import { getFileBatch } from './file-batches/service.ts';
import { purgeBlob } from './files/service.ts';
import { visibleChunk } from './ingest/chunk-write.ts';
import { getVectorStore } from './vector-stores/service.ts';

/** The outcome of one invariant check; `examples` names a few offending rows or blobs. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What holds (ok) or how many things break it. */
  detail: string;
  examples: string[];
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  /** What --repair did. */
  repaired: string[];
}

export interface DoctorOptions {
  sql: Sql;
  /** The local blob store's root (DATA_DIR/files); without it (S3) the blob checks are skipped. */
  blobRoot?: string;
  /** Needed to repair: deletes drained and orphaned blobs. */
  blobs?: BlobStore;
  /** An in_progress file whose lease ended (or that was never claimed) this long ago has no worker. */
  staleLeaseSeconds?: number;
  /**
   * Blobs without a row, and deleted_blobs rows, younger than this are left alone: a running server may be
   * between writing an upload's blob and recording it. 0 when no server can be running (the doctor holds DATA_DIR).
   */
  minAgeSeconds?: number;
  /** No server can be running (the doctor holds the embedded database): no job holds any draft. */
  exclusive?: boolean;
  /** Drain deleted_blobs, remove orphan blobs, temporary leftovers and orphan drafts (nothing else is changed). */
  repair?: boolean;
}

const EXAMPLES = 5;

/**
 * Checks what the service promises about its data: completed files have whole chunk sets and nothing else
 * has chunks, no chunk outlives its attachment, usage and counts as the API reports them agree with the
 * rows, no file is stuck without a worker, and every blob belongs to a row and every row has its blob.
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { sql } = opts;
  const stale = opts.staleLeaseSeconds ?? 600;
  const minAge = opts.minAgeSeconds ?? 3600;
  const checks: DoctorCheck[] = [];
  const repaired: string[] = [];
  const check = (name: string, okDetail: string, bad: string[], badDetail: (n: number) => string) =>
    checks.push({
      name,
      ok: bad.length === 0,
      detail: bad.length === 0 ? okDetail : badDetail(bad.length),
      examples: bad.slice(0, EXAMPLES),
    });
  const pair = (r: { vector_store_id: string; file_id: string }) => `${r.vector_store_id}/${r.file_id}`;

  const gaps = await sql<{ vector_store_id: string; file_id: string; n: number; lo: number; hi: number }[]>`
    SELECT v.vector_store_id, v.file_id, s.n, s.lo, s.hi
    FROM vector_store_files v
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n, coalesce(min(chunk_index), -1)::int AS lo, coalesce(max(chunk_index), -1)::int AS hi
      FROM chunks c WHERE c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
        AND ${visibleChunk(sql, sql`c`)}
    ) s
    WHERE v.status = 'completed' AND (s.n = 0 OR s.lo <> 0 OR s.hi <> s.n - 1)`;
  check(
    'completed_chunks_contiguous',
    'every completed file has chunks 0..n-1',
    gaps.map((r) => `${pair(r)} (${r.n} chunks, index ${r.lo}..${r.hi})`),
    (n) => `${n} completed files have missing, extra or no chunks`,
  );

  const half = await sql<{ vector_store_id: string; file_id: string; status: string; n: number }[]>`
    SELECT v.vector_store_id, v.file_id, v.status, count(*)::int AS n
    FROM chunks c JOIN vector_store_files v USING (vector_store_id, file_id)
    WHERE v.status <> 'completed' AND ${visibleChunk(sql, sql`c`)} GROUP BY 1, 2, 3`;
  check(
    'no_half_written_files',
    'only completed files have chunks',
    half.map((r) => `${pair(r)} is ${r.status} with ${r.n} chunks`),
    (n) => `${n} files that are not completed have chunks`,
  );

  const orphans = await sql<{ vector_store_id: string; file_id: string; n: number }[]>`
    SELECT c.vector_store_id, c.file_id, count(*)::int AS n FROM chunks c
    WHERE NOT EXISTS (SELECT 1 FROM vector_store_files v WHERE v.vector_store_id = c.vector_store_id AND v.file_id = c.file_id)
    GROUP BY 1, 2`;
  check(
    'no_orphan_chunks',
    'every chunk has its vector store file',
    orphans.map((r) => `${pair(r)}: ${r.n} chunks`),
    (n) => `${n} detached files still have chunks`,
  );

  const drafts = await orphanDrafts(sql, opts.exclusive ?? false, minAge);
  if (opts.repair) repaired.push(...(await removeDrafts(sql, drafts))); // then every check runs again
  check(
    'no_orphan_drafts',
    'every chunk draft belongs to a job still running',
    drafts.map(describeDraft),
    (n) => `${n} chunk drafts belong to no running job (hidden chunks; doctor --repair removes them)`,
  );

  // usage_bytes is what ingestion stored: the chunk texts' UTF-8 bytes plus 4 bytes per dimension per chunk.
  const usage = await sql<
    { vector_store_id: string; file_id: string; usage_bytes: number; expected: number }[]
  >`
    WITH dims AS (SELECT value::int AS d FROM settings WHERE key = 'embedding_dimensions')
    SELECT v.vector_store_id, v.file_id, v.usage_bytes, s.expected
    FROM vector_store_files v
    CROSS JOIN LATERAL (
      SELECT CASE WHEN v.status = 'completed'
        THEN coalesce(sum(octet_length(c.content) + (SELECT d FROM dims) * 4), 0) ELSE 0 END::bigint AS expected
      FROM chunks c WHERE c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
        AND ${visibleChunk(sql, sql`c`)}
    ) s
    WHERE v.usage_bytes <> s.expected`;
  check(
    'file_usage_bytes',
    "every file's usage_bytes matches its chunks",
    usage.map((r) => `${pair(r)}: usage_bytes ${r.usage_bytes}, chunks make ${r.expected}`),
    (n) => `${n} files report usage_bytes their chunks do not add up to`,
  );

  const stuck = await sql<{ vector_store_id: string; file_id: string; since: Date }[]>`
    SELECT vector_store_id, file_id, coalesce(lease_expires_at, updated_at) AS since FROM vector_store_files
    WHERE status = 'in_progress' AND coalesce(lease_expires_at, updated_at) < now() - make_interval(secs => ${stale})
    ORDER BY since LIMIT 1000`;
  check(
    'no_stuck_files',
    `no in_progress file has waited for a worker more than ${stale} s`,
    stuck.map((r) => `${pair(r)} waiting since ${r.since.toISOString()}`),
    (n) => `${n} in_progress files have had no worker for more than ${stale} s: is a worker running?`,
  );

  checks.push(await countsCheck(sql));
  checks.push(await statisticsCheck(sql));

  if (opts.blobRoot) {
    const found = await blobChecks(sql, opts.blobRoot, minAge);
    checks.push(...found.checks);
    if (opts.repair && opts.blobs) {
      for (const key of found.orphans) {
        await opts.blobs.delete(key);
        repaired.push(`removed orphan blob ${key}`);
      }
      for (const path of found.leftovers) {
        await rm(path, { force: true });
        repaired.push(`removed temporary leftover ${relative(opts.blobRoot, path)}`);
      }
    }
  }

  const undrained = () => sql<{ blob_key: string }[]>`
    SELECT blob_key FROM deleted_blobs WHERE deleted_at < now() - make_interval(secs => ${minAge}) ORDER BY deleted_at`;
  if (opts.repair && opts.blobs) {
    for (const { blob_key } of await undrained()) {
      await purgeBlob(sql, opts.blobs, blob_key);
      repaired.push(`purged the bytes of deleted file blob ${blob_key}`);
    }
  }
  check(
    'deleted_blobs_drained',
    'no deleted file waits for its bytes to be purged',
    (await undrained()).map((r) => r.blob_key),
    (n) => `${n} deleted files still have their bytes (maintenance, or doctor --repair, purges them)`,
  );

  if (repaired.length) return { ...(await runDoctor({ ...opts, repair: false })), repaired };
  return { ok: checks.every((c) => c.ok), checks, repaired };
}

/**
 * The per-store statistics search plans and ranks with (migrations 0004, 0009): chunk and token counts, and
 * each lexeme's document frequency as BM25 reads it (chunk_terms plus the term backlog), against a recount of
 * the visible chunks. One statement, so one snapshot: exact even while files ingest.
 */
async function statisticsCheck(sql: Sql): Promise<DoctorCheck> {
  const bad = await sql<
    { id: string; chunk_count: number; n: number; token_count: number; tokens: number; lexemes: number }[]
  >`
    WITH visible AS MATERIALIZED (SELECT c.vector_store_id, c.id, c.tsv FROM chunks c WHERE ${visibleChunk(sql, sql`c`)}),
    kept AS (
      SELECT x.vector_store_id, x.lexeme, sum(x.chunks) AS chunks FROM (
        SELECT vector_store_id, lexeme, chunks FROM chunk_terms
        UNION ALL
        SELECT p.vector_store_id, p.lexeme, b.sign * p.chunks
        FROM term_backlog b JOIN generation_terms p USING (vector_store_id, file_id, generation)
        WHERE b.sign <> 0 AND p.lexeme > b.done_through) x
      JOIN vector_stores s ON s.id = x.vector_store_id GROUP BY 1, 2),
    counted AS (SELECT v.vector_store_id, u.lexeme, count(*) AS chunks FROM visible v, unnest(v.tsv) u GROUP BY 1, 2),
    terms AS (
      SELECT vector_store_id, count(*)::int AS lexemes FROM kept k FULL JOIN counted c USING (vector_store_id, lexeme)
      WHERE coalesce(k.chunks, 0) <> coalesce(c.chunks, 0) GROUP BY 1),
    counts AS (
      SELECT s.id, s.chunk_count::int, s.token_count::int, count(v.id)::int AS n,
        coalesce(sum(tsvector_tokens(v.tsv)), 0)::int AS tokens
      FROM vector_stores s LEFT JOIN visible v ON v.vector_store_id = s.id GROUP BY s.id)
    SELECT c.id, c.chunk_count, c.n, c.token_count, c.tokens, coalesce(t.lexemes, 0) AS lexemes
    FROM counts c LEFT JOIN terms t ON t.vector_store_id = c.id
    WHERE c.chunk_count <> c.n OR c.token_count <> c.tokens OR t.lexemes > 0
    ORDER BY c.id`;
  return {
    name: 'search_statistics_exact',
    ok: bad.length === 0,
    detail: bad.length
      ? `${bad.length} stores have search statistics their chunks do not add up to`
      : "every store's chunk count, token count and term document frequencies match its chunks",
    examples: bad
      .slice(0, EXAMPLES)
      .map(
        (r) =>
          `${r.id}: chunk_count ${r.chunk_count} (counted ${r.n}), token_count ${r.token_count} (counted ${r.tokens}), ${r.lexemes} lexemes off`,
      ),
  };
}

/** file_counts and usage_bytes as the API reports them (stores and batches) against a plain count of the rows. */
async function countsCheck(sql: Sql): Promise<DoctorCheck> {
  const bad: string[] = [];
  const stores = await sql<
    {
      id: string;
      project_id: string;
      in_progress: number;
      completed: number;
      failed: number;
      cancelled: number;
      usage_bytes: number;
    }[]
  >`
    SELECT vs.id, vs.project_id,
      count(f.file_id) FILTER (WHERE f.status = 'in_progress')::int AS in_progress,
      count(f.file_id) FILTER (WHERE f.status = 'completed')::int AS completed,
      count(f.file_id) FILTER (WHERE f.status = 'failed')::int AS failed,
      count(f.file_id) FILTER (WHERE f.status = 'cancelled')::int AS cancelled,
      coalesce(sum(f.usage_bytes), 0)::bigint AS usage_bytes
    FROM vector_stores vs LEFT JOIN vector_store_files f ON f.vector_store_id = vs.id
    GROUP BY vs.id, vs.project_id`;
  for (const s of stores) {
    const api = await getVectorStore(sql, s.project_id, s.id);
    const rows = {
      in_progress: s.in_progress,
      completed: s.completed,
      failed: s.failed,
      cancelled: s.cancelled,
      total: s.in_progress + s.completed + s.failed + s.cancelled,
    };
    if (JSON.stringify(api.file_counts) !== JSON.stringify(rows) || api.usage_bytes !== s.usage_bytes) {
      bad.push(
        `${s.id}: API says ${JSON.stringify(api.file_counts)} ${api.usage_bytes} B, rows say ${JSON.stringify(rows)} ${s.usage_bytes} B`,
      );
    }
  }
  const batches = await sql<
    { id: string; project_id: string; vector_store_id: string; total: number; in_progress: number }[]
  >`
    SELECT b.id, b.project_id, b.vector_store_id, count(f.file_id)::int AS total,
      count(f.file_id) FILTER (WHERE f.status = 'in_progress')::int AS in_progress
    FROM file_batches b LEFT JOIN vector_store_files f ON f.batch_id = b.id
    GROUP BY b.id, b.project_id, b.vector_store_id`;
  for (const b of batches) {
    const api = await getFileBatch(sql, b.project_id, b.vector_store_id, b.id);
    if (api.file_counts.total !== b.total || api.file_counts.in_progress !== b.in_progress) {
      bad.push(`${b.id}: API says ${JSON.stringify(api.file_counts)}, rows say total ${b.total}`);
    }
  }
  return {
    name: 'api_counts_match_rows',
    ok: bad.length === 0,
    detail: bad.length
      ? `${bad.length} stores or batches report counts the rows do not have`
      : `file_counts and usage_bytes of ${stores.length} stores and ${batches.length} batches match their rows`,
    examples: bad.slice(0, EXAMPLES),
  };
}

/** Every file row (and upload part) has its blob, of the recorded size; every blob has its row. */
async function blobChecks(sql: Sql, root: string, minAgeSeconds: number) {
  const onDisk = new Map<string, { bytes: number; mtimeMs: number }>();
  const leftovers: string[] = [];
  const cutoff = Date.now() - minAgeSeconds * 1000;
  for (const path of await walk(root)) {
    const info = await stat(path);
    if (path.endsWith('.tmp') || relative(root, path).split(sep)[0] === TEMP_DIR) {
      if (info.mtimeMs <= cutoff) leftovers.push(path);
      continue;
    }
    onDisk.set(relative(root, path).split(sep).join('/'), { bytes: info.size, mtimeMs: info.mtimeMs });
  }
  const known = await sql<{ blob_key: string; bytes: number | null; kind: string; id: string }[]>`
    SELECT blob_key, bytes, 'file' AS kind, id FROM files
    UNION ALL SELECT blob_key, bytes, 'upload part' AS kind, id FROM upload_parts
    UNION ALL SELECT blob_key, NULL, 'deleted' AS kind, blob_key AS id FROM deleted_blobs`;
  const missing: string[] = [];
  const keys = new Set<string>();
  for (const row of known) {
    keys.add(row.blob_key);
    if (row.kind === 'deleted') continue;
    const blob = onDisk.get(row.blob_key);
    if (!blob) missing.push(`${row.kind} ${row.id}: no blob at ${row.blob_key}`);
    else if (blob.bytes !== Number(row.bytes)) {
      missing.push(`${row.kind} ${row.id}: blob has ${blob.bytes} bytes, row says ${row.bytes}`);
    }
  }
  const orphans = [...onDisk.entries()]
    .filter(([key, b]) => !keys.has(key) && b.mtimeMs <= cutoff)
    .map(([key]) => key);
  const checks: DoctorCheck[] = [
    {
      name: 'every_file_has_its_blob',
      ok: missing.length === 0,
      detail: missing.length
        ? `${missing.length} files or parts have lost their bytes or have the wrong size`
        : `${known.length - known.filter((k) => k.kind === 'deleted').length} files and parts have their bytes`,
      examples: missing.slice(0, EXAMPLES),
    },
    {
      name: 'no_orphan_blobs',
      ok: orphans.length === 0 && leftovers.length === 0,
      detail:
        orphans.length || leftovers.length
          ? `${orphans.length} blobs belong to no file and ${leftovers.length} temporary files were left by interrupted uploads`
          : 'every blob belongs to a file, an upload part or a pending delete',
      examples: [...orphans, ...leftovers.map((p) => relative(root, p))].slice(0, EXAMPLES),
    },
  ];
  return { checks, orphans, leftovers };
}

async function walk(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

/** The report as lines for a terminal. */
export function formatReport(report: DoctorReport): string {
  const lines = report.checks.flatMap((c) => [
    `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`,
    ...c.examples.map((e) => `       ${e}`),
  ]);
  for (const r of report.repaired) lines.push(`repaired: ${r}`);
  lines.push(report.ok ? 'all invariants hold' : 'some invariants do not hold');
  return lines.join('\n');
}
