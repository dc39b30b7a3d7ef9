import { Readable } from 'node:stream';
import { ApiError } from '@vsdb/core/errors';
import busboy from 'busboy';
import { isUnstorable } from './validate.ts';

export interface FilePart<T> {
  field: string;
  filename: string;
  mimeType: string;
  result: T;
}

/**
 * Streams a multipart/form-data body: text fields are collected (bounded), the one file part is handed to
 * `onFile` as a stream while it arrives, so an upload is never buffered whole in memory.
 */
export function parseMultipart<T>(
  req: Request,
  opts: {
    maxFieldBytes: number;
    onFile: (
      stream: AsyncIterable<Uint8Array>,
      info: { field: string; filename: string; mimeType: string },
    ) => Promise<T>;
    onAbandon?: (result: T) => Promise<void>;
  },
): Promise<{ fields: Record<string, string>; file: FilePart<T> | undefined }> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    throw new ApiError(
      'unsupported_media_type',
      `Expected Content-Type multipart/form-data, got '${type || 'none'}'.`,
    );
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { 'content-type': type },
      limits: { fieldSize: opts.maxFieldBytes, fields: 50, files: 1, parts: 60, fieldNameSize: 200 },
      defParamCharset: 'utf8',
    });
  } catch (err) {
    throw new ApiError('invalid_request', `Malformed multipart body: ${(err as Error).message}`);
  }
  const source = req.body ? Readable.fromWeb(req.body as never) : Readable.from([]);
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let file: FilePart<T> | undefined;
    let pending: Promise<void> | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      source.unpipe(bb);
      source.destroy();
      if (file && opts.onAbandon) opts.onAbandon(file.result).catch(() => {});
      reject(err);
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        fail(
          new ApiError(
            'payload_too_large',
            `Field '${name}' is larger than ${opts.maxFieldBytes} bytes.`,
            name,
          ),
        );
        return;
      }
      fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      // A form cut short destroys this stream with an error, maybe before onFile reads it (or after it gave
      // up): unheard, that error would crash the process. busboy reports it too, and fail() answers it.
      stream.on('error', () => {});
      const meta = { field, filename: info.filename ?? '', mimeType: info.mimeType };
      if (isUnstorable(meta.filename) || isUnstorable(field)) {
        stream.resume();
        fail(new ApiError('invalid_request', 'The file name must not contain NUL characters.', 'file'));
        return;
      }
      pending = Promise.resolve()
        .then(() => opts.onFile(stream, meta))
        .then(
          (result) => {
            file = { ...meta, result };
            if (failed && opts.onAbandon) opts.onAbandon(result).catch(() => {});
          },
          (err) => {
            stream.resume();
            fail(err);
          },
        );
    });
    bb.on('filesLimit', () =>
      fail(new ApiError('invalid_request', 'Only one file can be uploaded per request.', 'file')),
    );
    bb.on('fieldsLimit', () => fail(new ApiError('invalid_request', 'Too many form fields.')));
    bb.on('partsLimit', () => fail(new ApiError('invalid_request', 'Too many form parts.')));
    bb.on('error', (err) =>
      fail(new ApiError('invalid_request', `Malformed multipart body: ${(err as Error).message}`)),
    );
    bb.on('close', () => {
      Promise.resolve(pending).then(() => {
        if (!failed) resolve({ fields, file });
      }, fail);
    });
    source.on('error', (err) => fail(new ApiError('invalid_request', `Upload interrupted: ${err.message}`)));
    source.pipe(bb);
  });
}
