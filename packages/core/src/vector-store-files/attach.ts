import type { Config } from '../config.ts';
import type { Sql } from '../db/client.ts';
import type { JobRef, JobRunner } from '../ingest/queue.ts';
import { assertVectorStore, touchVectorStore } from '../vector-stores/service.ts';
import { type AttachInput, attachFiles } from './service.ts';

/**
 * Attaches files and starts their ingestion. When all of them together are small (INLINE_MAX_BYTES), they are
 * ingested within the request, so the caller sees them completed without polling; otherwise they are queued.
 */
export async function attachAndIngest(
  ctx: { sql: Sql; jobs: JobRunner; config: Config },
  projectId: string,
  vectorStoreId: string,
  files: AttachInput[],
): Promise<JobRef[]> {
  const { sql, config } = ctx;
  const refs = await sql.begin(async (tx) => {
    await assertVectorStore(tx, projectId, vectorStoreId, true);
    return attachFiles(tx, projectId, vectorStoreId, files, {
      maxTokens: config.CHUNK_SIZE,
      overlapTokens: config.CHUNK_OVERLAP,
    });
  });
  await touchVectorStore(sql, [vectorStoreId]);
  await runOrQueue(ctx, refs);
  return refs;
}

/** Runs small sets of jobs now and queues the rest. */
export async function runOrQueue(
  ctx: { sql: Sql; jobs: JobRunner; config: Config },
  refs: JobRef[],
): Promise<void> {
  if (!refs.length) return;
  const [row] = await ctx.sql<{ total: number }[]>`
    SELECT coalesce(sum(bytes), 0)::bigint AS total FROM files WHERE id = ANY(${refs.map((r) => r.fileId)})`;
  if ((row?.total ?? 0) <= ctx.config.INLINE_MAX_BYTES && refs.length <= 20) {
    for (const ref of refs) await ctx.jobs.runNow(ref);
  } else {
    await ctx.jobs.enqueue(refs);
  }
}
