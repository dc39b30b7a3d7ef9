// Test data for the search tests: rows inserted straight into the schema, no services involved.

import type { Sql } from '@vsdb/core/db/client';
import { toSql } from 'pgvector';

export interface ChunkRow {
  content: string;
  embedding: number[];
  attributes?: Record<string, string | number | boolean | null>;
  page?: number | null;
}

/** A project (created if missing) with one store holding one completed file. */
export async function seedStore(
  sql: Sql,
  ids: { project: string; store: string; file: string; filename?: string },
): Promise<void> {
  await sql`INSERT INTO projects (id, name) VALUES (${ids.project}, ${`test ${ids.project}`}) ON CONFLICT DO NOTHING`;
  await sql`INSERT INTO vector_stores (id, project_id, name) VALUES (${ids.store}, ${ids.project}, ${ids.store})`;
  await addFile(sql, ids);
}

/** Another file in an existing store. */
export async function addFile(
  sql: Sql,
  ids: { project: string; store: string; file: string; filename?: string },
): Promise<void> {
  await sql`INSERT INTO files (id, project_id, filename, bytes, purpose, blob_key)
    VALUES (${ids.file}, ${ids.project}, ${ids.filename ?? `${ids.file}.txt`}, 1, 'assistants', ${ids.file})
    ON CONFLICT DO NOTHING`;
  await sql`INSERT INTO vector_store_files (vector_store_id, file_id, project_id, status, chunking_strategy)
    VALUES (${ids.store}, ${ids.file}, ${ids.project}, 'completed', '{"type":"auto"}')`;
}

/** Bulk-inserts chunks (chunk_index from `start`), in batches, and returns their ids in order. */
export async function insertChunks(
  sql: Sql,
  store: string,
  file: string,
  rows: ChunkRow[],
  start = 0,
): Promise<number[]> {
  const ids: number[] = [];
  for (let b = 0; b < rows.length; b += 1000) {
    const batch = rows.slice(b, b + 1000).map((r, i) => ({
      vector_store_id: store,
      file_id: file,
      chunk_index: start + b + i,
      content: r.content,
      tokens: r.content.split(/\s+/).length,
      page: r.page ?? null,
      char_start: 0,
      char_end: r.content.length,
      attributes: sql.json(r.attributes ?? {}),
      embedding: toSql(r.embedding)!,
    }));
    const inserted = await sql<{ id: number }[]>`INSERT INTO chunks ${sql(batch)} RETURNING id`;
    ids.push(...inserted.map((r) => r.id));
  }
  return ids;
}

/** A seeded uniform generator, so that every run sees the same data. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A standard normal sample (Box-Muller). */
export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A random unit vector. */
export function unitVector(rand: () => number, dims: number): number[] {
  return normalize(Array.from({ length: dims }, () => gaussian(rand)));
}

export function normalize(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
