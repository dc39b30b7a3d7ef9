// A file's chunks are written as a draft, in short transactions of their own, and published at once
// (migration 0007): no transaction of ingestion holds the embedded engine's single connection for long,
// yet readers see a file's old chunks or its new ones, never a mix, and the statistics count only what
// is visible. A published draft's term statistics join the store's afterwards, in bounded batches, and a
// large file's leave them the same way when its chunks go (migration 0009, the term backlog); search
// counts the backlog meanwhile.
import type { Sql, Tx } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';
import type { Attributes } from '../schemas.ts';
import type { JobRef } from './queue.ts';

export interface ChunkRow {
  chunk_index: number;
  content: string;
  tokens: number;
  page: number | null;
  char_start: number;
  char_end: number;
  embedding: string;
}

/**
 * What one transaction of a draft writes at most: rows, bytes of content and embeddings, and time (each row
 * also goes into the HNSW index, some milliseconds each on the embedded engine): a read waits that long.
 */
export const SLICE_ROWS = 256;
export const SLICE_BYTES = 4 * 1024 * 1024;
const SLICE_MS = 100;
/** Each INSERT aims at this long (its row count follows the last one's time): the engine's thread answers
 * its ping between two statements only. */
const STATEMENT_MS = 50;
const MAX_ROWS_PER_STATEMENT = 64;
/** Rows the next INSERT takes: learnt from the last one (in this process), starting small (1,536 dims). */
let rowsPerStatement = 1;
/** Lexemes one transaction of the term backlog moves into the store's statistics (or removes). */
export const BACKLOG_TERMS = 2000;
/** Rows a discarded draft loses per statement. */
const DISCARD_ROWS = 500;

/**
 * True for a chunk readers may see: not part of a draft (being written, or left by a failed attempt).
 * `c` is the alias of `chunks` in the query.
 */
export const visibleChunk = (sql: Sql | Tx, c: Fragment) => sql`NOT EXISTS (
  SELECT 1 FROM chunk_drafts d WHERE d.vector_store_id = ${c}.vector_store_id AND d.file_id = ${c}.file_id
    AND d.generation = ${c}.generation)`;

const mine = (sql: Sql | Tx, job: JobRef, owner: string) =>
  sql`vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId} AND lease_owner = ${owner} AND status = 'in_progress'`;

export interface Draft {
  generation: string;
  attributes: Attributes;
}

/**
 * Opens a draft for the job's new chunks; null when the job is no longer ours. Drafts of files that have
 * been detached or deleted since (their chunks went by cascade) are removed first.
 */
export async function openDraft(sql: Sql, job: JobRef, owner: string): Promise<Draft | null> {
  await sql`
    DELETE FROM chunk_drafts d WHERE NOT EXISTS (SELECT 1 FROM vector_store_files v
      WHERE v.vector_store_id = d.vector_store_id AND v.file_id = d.file_id)`;
  const [row] = await sql<{ generation: string; attributes: Attributes }[]>`
    WITH v AS (SELECT vector_store_id, file_id, attributes FROM vector_store_files WHERE ${mine(sql, job, owner)}),
    d AS (
      INSERT INTO chunk_drafts (vector_store_id, file_id, generation)
      SELECT vector_store_id, file_id, nextval('chunk_generations') FROM v
      RETURNING generation)
    SELECT d.generation::text, v.attributes FROM d, v`;
  return row ?? null;
}

/** Splits rows into slices of at most SLICE_ROWS rows and about SLICE_BYTES bytes. */
export function slicesOf<T extends { content: string; embedding: string }>(rows: T[]): T[][] {
  const slices: T[][] = [];
  let slice: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.content.length * 3 + row.embedding.length;
    if (slice.length && (slice.length >= SLICE_ROWS || bytes + size > SLICE_BYTES)) {
      slices.push(slice);
      slice = [];
      bytes = 0;
    }
    slice.push(row);
    bytes += size;
  }
  if (slice.length) slices.push(slice);
  return slices;
}

/**
 * Writes the first rows of a slice of a draft in a transaction of its own, for at most SLICE_MS, while the
 * job and the draft are still ours (the draft's row is share-locked, so a publish of another attempt waits
 * for the slice and then removes it). Returns how many rows it wrote, or null (writing nothing) when the
 * job or the draft is no longer ours.
 */
export async function writeSlice(
  sql: Sql,
  job: JobRef,
  owner: string,
  draft: Draft,
  rows: ChunkRow[],
): Promise<number | null> {
  return sql.begin(async (tx) => {
    const [held] = await tx`
      SELECT 1 FROM chunk_drafts d JOIN vector_store_files v USING (vector_store_id, file_id)
      WHERE d.vector_store_id = ${job.vectorStoreId} AND d.file_id = ${job.fileId}
        AND d.generation = ${draft.generation} AND v.lease_owner = ${owner} AND v.status = 'in_progress'
      FOR SHARE OF d`;
    if (!held) return null;
    const attributes = tx.json(draft.attributes);
    const started = performance.now();
    let written = 0;
    while (written < rows.length && performance.now() - started < SLICE_MS) {
      const batch = rows.slice(written, written + rowsPerStatement).map((c) => ({
        ...c,
        vector_store_id: job.vectorStoreId,
        file_id: job.fileId,
        generation: draft.generation,
        attributes,
      }));
      const t = performance.now();
      await tx`INSERT INTO chunks ${tx(batch)}`;
      const ms = Math.max(performance.now() - t, 1);
      rowsPerStatement = Math.min(
        Math.max(Math.floor((batch.length * STATEMENT_MS) / ms), 1),
        MAX_ROWS_PER_STATEMENT,
      );
      written += batch.length;
    }
    return written;
  });
}

/**
 * Publishes a draft in one short transaction, while the job is still ours: the file's other chunks (an
 * earlier ingestion, abandoned attempts) go, the draft's counts join the store's and its terms count from
 * the backlog (settleTerms then merges them), and its chunks become visible as the job turns completed.
 * Returns false (changing nothing) when the job was taken away.
 */
export async function publishDraft(
  sql: Sql,
  job: JobRef,
  owner: string,
  draft: Draft,
  usage: { bytes: number; tokens: number },
  alsoWrite?: (tx: Tx) => Promise<void>,
): Promise<boolean> {
  return sql.begin(async (tx) => {
    const file = tx`vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId}`;
    const [row] = await tx<{ attributes: Attributes }[]>`
      UPDATE vector_store_files
      SET status = 'completed', usage_bytes = ${usage.bytes}, embedding_tokens = ${usage.tokens},
          last_error = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE ${mine(tx, job, owner)}
      RETURNING attributes`;
    if (!row) return false;
    // Every draft of the file, so that no slice of another attempt is being written meanwhile.
    await tx`SELECT 1 FROM chunk_drafts WHERE ${file} ORDER BY generation FOR UPDATE`;
    await tx`DELETE FROM chunks WHERE ${file} AND generation <> ${draft.generation}`;
    await tx`DELETE FROM chunk_drafts WHERE ${file} AND generation <> ${draft.generation}`;
    const ours = tx`${file} AND generation = ${draft.generation}`;
    await tx`SELECT 1 FROM vector_stores WHERE id = ${job.vectorStoreId} FOR NO KEY UPDATE`;
    // Its terms count from the backlog at once (a file may hold 100,000 lexemes: adding them here took
    // 1.7 s), and a large generation keeps them, so that its deletion can leave their removal to the backlog.
    await tx`INSERT INTO term_backlog (vector_store_id, file_id, generation, sign)
             VALUES (${job.vectorStoreId}, ${job.fileId}, ${draft.generation}, 1)`;
    await tx`INSERT INTO term_sets (vector_store_id, file_id, generation)
      SELECT ${job.vectorStoreId}, ${job.fileId}, ${draft.generation}
      WHERE (SELECT count(*) FROM (SELECT 1 FROM generation_terms WHERE ${ours} LIMIT ${BACKLOG_TERMS + 1}) t)
        > ${BACKLOG_TERMS}`;
    await tx`
      UPDATE vector_stores s SET chunk_count = s.chunk_count + d.chunk_count, token_count = s.token_count + d.token_count
      FROM chunk_drafts d WHERE s.id = d.vector_store_id AND d.vector_store_id = ${job.vectorStoreId}
        AND d.file_id = ${job.fileId} AND d.generation = ${draft.generation}`;
    // The file's attributes may have changed while the draft was written.
    const attributes = tx.json(row.attributes);
    await tx`UPDATE chunks SET attributes = ${attributes} WHERE ${ours} AND attributes IS DISTINCT FROM ${attributes}`;
    await tx`DELETE FROM chunk_drafts WHERE ${ours}`;
    await alsoWrite?.(tx);
    return true;
  });
}

/**
 * Removes drafts of the file (one generation, or all of them) in short statements; their chunks were never
 * visible nor counted. Best effort: a draft left behind stays hidden and goes with the next publish.
 */
export async function discardDrafts(sql: Sql, job: JobRef, generation?: string): Promise<void> {
  const which = sql`vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId}${
    generation === undefined ? sql`` : sql` AND generation = ${generation}`
  }`;
  const drafts = await sql<{ generation: string }[]>`
    SELECT generation::text FROM chunk_drafts WHERE ${which}`;
  for (const d of drafts) {
    // Each statement holds the draft's row, so that a publish of another attempt does not remove it meanwhile.
    for (let more = true; more; ) {
      more = await sql.begin(async (tx) => {
        const gen = tx`vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId} AND generation = ${d.generation}`;
        const [held] = await tx`SELECT 1 FROM chunk_drafts WHERE ${gen} FOR SHARE`;
        if (!held) return false;
        const gone = await tx`
          DELETE FROM chunks WHERE id IN (SELECT id FROM chunks WHERE ${gen} LIMIT ${DISCARD_ROWS}) RETURNING id`;
        if (gone.length === DISCARD_ROWS) return true;
        await tx`DELETE FROM chunk_drafts WHERE ${gen}`;
        return false;
      });
    }
    // The draft's term counts went to the backlog with its row (to be dropped).
    await settleTerms(sql, { only: { ...job, generation: d.generation } });
  }
}

interface BacklogEntry {
  seq: string;
  vector_store_id: string;
  file_id: string;
  generation: string;
  sign: number;
  done_through: string;
}

/**
 * Works the term backlog (migration 0009), BACKLOG_TERMS lexemes a transaction: a published generation's
 * terms join chunk_terms (sign 1), a deleted one's leave it (-1), a removed draft's are dropped (0); a
 * generation's entries in the order they came. Its terms go once no entry nor term set needs them. `only`
 * keeps to one file (or one generation of it) until done; otherwise the oldest entries go first, `limit`
 * transactions at most. Entries another process is working on are skipped. Returns how many transactions
 * did something.
 */
export async function settleTerms(
  sql: Sql,
  opts: { only?: JobRef & { generation?: string }; limit?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const { only, limit = Number.POSITIVE_INFINITY, signal } = opts;
  let steps = 0;
  while (steps < limit && !signal?.aborted) {
    const worked = await sql.begin(async (tx) => {
      const [next] = await tx<BacklogEntry[]>`
        SELECT seq::text, vector_store_id, file_id, generation::text, sign, done_through FROM term_backlog b
        WHERE NOT EXISTS (SELECT 1 FROM term_backlog o WHERE o.vector_store_id = b.vector_store_id
                            AND o.file_id = b.file_id AND o.generation = b.generation AND o.seq < b.seq)
          ${only ? tx`AND vector_store_id = ${only.vectorStoreId} AND file_id = ${only.fileId}` : tx``}
          ${only?.generation === undefined ? tx`` : tx`AND generation = ${only.generation}`}
        ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`;
      if (!next) return false;
      // The store's row first, as every writer of its statistics takes it (a deleted store's terms just go).
      if (next.sign !== 0)
        await tx`SELECT 1 FROM vector_stores WHERE id = ${next.vector_store_id} FOR NO KEY UPDATE`;
      const which = tx`vector_store_id = ${next.vector_store_id} AND file_id = ${next.file_id}
        AND generation = ${next.generation}`;
      const [step] = await tx<{ n: number; last: string | null }[]>`
        WITH keep AS MATERIALIZED (
          SELECT EXISTS (SELECT 1 FROM term_sets WHERE ${which})
            OR EXISTS (SELECT 1 FROM term_backlog WHERE ${which} AND seq <> ${next.seq}) AS keep),
        batch AS MATERIALIZED (
          SELECT vector_store_id, lexeme, chunks FROM generation_terms
          WHERE ${which} AND lexeme > ${next.done_through} ORDER BY lexeme LIMIT ${BACKLOG_TERMS}),
        merged AS (
          INSERT INTO chunk_terms AS t (vector_store_id, lexeme, chunks)
            SELECT b.vector_store_id, b.lexeme, ${next.sign}::int * b.chunks
            FROM batch b JOIN vector_stores s ON s.id = b.vector_store_id
            WHERE ${next.sign}::int <> 0 ORDER BY b.lexeme
          ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks),
        gone AS (
          DELETE FROM generation_terms WHERE ${which} AND lexeme > ${next.done_through}
            AND lexeme <= (SELECT max(lexeme) FROM batch) AND NOT (SELECT keep FROM keep))
        SELECT count(*)::int AS n, max(lexeme) AS last FROM batch`;
      if (step!.n < BACKLOG_TERMS) await tx`DELETE FROM term_backlog WHERE seq = ${next.seq}`;
      else await tx`UPDATE term_backlog SET done_through = ${step!.last} WHERE seq = ${next.seq}`;
      return true;
    });
    if (!worked) break;
    steps++;
  }
  return steps;
}

/**
 * Writes the job's chunks as a draft, slice by slice, and publishes them with `alsoWrite`, only while the
 * job is ours (and `signal` not aborted). Returns false when it was taken away; its draft is then removed.
 */
export async function completeJob(
  sql: Sql,
  job: JobRef,
  owner: string,
  chunks: ChunkRow[],
  usage: { bytes: number; tokens: number },
  alsoWrite?: (tx: Tx) => Promise<void>,
  signal?: AbortSignal,
): Promise<boolean> {
  const draft = await openDraft(sql, job, owner);
  if (!draft) return false;
  try {
    let ours = true;
    for (const slice of slicesOf(chunks)) {
      for (let at = 0; ours && at < slice.length; ) {
        const written = signal?.aborted ? null : await writeSlice(sql, job, owner, draft, slice.slice(at));
        if (written === null) ours = false;
        else at += written;
      }
      if (!ours) break;
    }
    if (ours && (await publishDraft(sql, job, owner, draft, usage, alsoWrite))) {
      // Published, and its terms already count: merging them (and removing those of the file's other drafts)
      // is tidying, left to maintenance if it fails here.
      await settleTerms(sql, { only: job, signal }).catch(() => {});
      return true;
    }
  } catch (err) {
    await discardDrafts(sql, job, draft.generation).catch(() => {});
    throw err;
  }
  await discardDrafts(sql, job, draft.generation);
  return false;
}
