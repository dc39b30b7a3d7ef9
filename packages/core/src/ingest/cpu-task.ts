// Runs in a worker thread of the ingest CPU pool (cpu-pool.ts): a file's extraction, tokenizing and
// chunking, so none of it runs on the thread that answers requests.
import { ApiError } from '../errors.ts';
import { type Chunk, chunkText } from './chunk.ts';
import { extractText } from './extract.ts';

export interface PrepareTask {
  bytes: Uint8Array;
  filename: string;
  mimeType: string | null;
  maxTokens: number;
  overlapTokens: number;
}

/** Errors cross the thread boundary as data: a structured clone would lose ApiError's code. */
export type PrepareResult =
  | { ok: true; chunks: Chunk[] }
  | { ok: false; code: 'unsupported_file' | 'invalid_file'; message: string };

export default async function prepare(task: PrepareTask): Promise<PrepareResult> {
  try {
    const extracted = await extractText(task.bytes, task.filename, task.mimeType);
    const chunks = chunkText(extracted.text, {
      maxTokens: task.maxTokens,
      overlapTokens: task.overlapTokens,
      pages: extracted.pages,
    });
    return { ok: true, chunks };
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'unsupported_file' || err.code === 'invalid_file')) {
      return { ok: false, code: err.code, message: err.message };
    }
    throw err;
  }
}
