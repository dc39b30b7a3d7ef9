// Runs in a worker thread of the ingest CPU pool (cpu-pool.ts): a file's extraction, tokenizing and
// chunking, so none of it runs on the thread that answers requests.
import { ApiError } from '../errors.ts';
import { type ParsedCsv, parseStructuredCsv } from '../maia/csv.ts';
import { type Chunk, chunkText } from './chunk.ts';
import { type Extracted, extractText } from './extract.ts';

export interface PrepareTask {
  bytes: Uint8Array;
  filename: string;
  mimeType: string | null;
  maxTokens: number;
  overlapTokens: number;
}

/** What a file becomes before embedding: its text, its chunks and (a CSV) its rows. */
export interface Prepared {
  extracted: Extracted;
  chunks: Chunk[];
  /** A CSV's rows for MAIA's structured queries (null when it has none); undefined for other files. */
  csv?: ParsedCsv | null;
}

/** Errors cross the thread boundary as data: a structured clone would lose ApiError's code. */
export type PrepareResult =
  | ({ ok: true } & Prepared)
  | { ok: false; code: 'unsupported_file' | 'invalid_file'; message: string };

export default async function prepare(task: PrepareTask): Promise<PrepareResult> {
  try {
    const extracted = await extractText(task.bytes, task.filename, task.mimeType);
    const chunks = chunkText(extracted.text, {
      maxTokens: task.maxTokens,
      overlapTokens: task.overlapTokens,
      pages: extracted.pages,
    });
    const csv = /\.csv$/i.test(task.filename) ? parseStructuredCsv(extracted.text) : undefined;
    return { ok: true, extracted, chunks, ...(csv === undefined ? {} : { csv }) };
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'unsupported_file' || err.code === 'invalid_file')) {
      return { ok: false, code: err.code, message: err.message };
    }
    throw err;
  }
}
