import { ApiError } from '@vsdb/core/errors';
import type { z } from 'zod';
import { type FilePart, parseMultipart } from './multipart.ts';
import { parseOr400 } from './validate.ts';

/**
 * Reads a multipart/form-data body: the file part is streamed to `onFile` (which stores it), the text fields
 * are validated with `fields`. When the request is refused after the file was stored (a missing `file`
 * part, a bad field), the stored file is abandoned, so nothing stays behind.
 */
export async function readForm<S extends z.ZodType, T>(
  req: Request,
  opts: {
    fields: S;
    /** The field the file must come in; refused when missing. Without it the file part is optional. */
    file?: string;
    maxFieldBytes: number;
    onFile: (
      stream: AsyncIterable<Uint8Array>,
      info: { field: string; filename: string; mimeType: string },
    ) => Promise<T>;
    onAbandon: (result: T) => Promise<void>;
  },
): Promise<{ fields: z.infer<S>; file: FilePart<T> | undefined }> {
  const { fields, file } = await parseMultipart(req, opts);
  try {
    if (opts.file && file?.field !== opts.file)
      throw new ApiError('invalid_request', `Missing required part '${opts.file}'.`, opts.file);
    return { fields: parseOr400(opts.fields, fields), file };
  } catch (err) {
    if (file) await opts.onAbandon(file.result);
    throw err;
  }
}
