import { Readable } from 'node:stream';
import { ApiError } from '@vsdb/core/errors';
import { hasControlChars, isMediaType } from '@vsdb/core/schemas';
import busboy from 'busboy';
import { isUnstorable } from './validate.ts';

/** Form limits: a handful of fields is all any route reads. */
const LIMITS = { fields: 50, files: 1, parts: 60, fieldNameSize: 200 };
/**
 * After a refusal, the rest of the body is read and dropped up to this much, so the client finishes sending
 * and reads the 400 (destroying the socket mid-send loses it: EPIPE); a larger remainder closes it.
 */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

/** The request's body was cut off by the client: its error, not ours (never database_unavailable). */
const interrupted = () =>
  new ApiError('invalid_request', 'The upload was interrupted before the request body was complete.');

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
      limits: { fieldSize: opts.maxFieldBytes, ...LIMITS },
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
    let cutOff = false;
    let active: Readable | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      if (failed || settled) return;
      failed = true;
      source.unpipe(bb);
      drain(source);
      // A file still arriving is abandoned: its store sees an error now (and removes its temporary file)
      // instead of waiting for bytes that will not come.
      active?.destroy(new Error('The request was refused or cut off.'));
      if (file && opts.onAbandon) opts.onAbandon(file.result).catch(() => {});
      // A stream error after the client went away (ECONNRESET, aborted) is the client's doing.
      reject((cutOff || req.signal?.aborted) && !(err instanceof ApiError) ? interrupted() : err);
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
      // After a refusal the parser is cut from the body, but a file part already in the chunk it was reading
      // still arrives here: its stream would never end, so a write started for it would wait for ever.
      if (failed) {
        stream.resume();
        return;
      }
      active = stream;
      const meta = { field, filename: info.filename ?? '', mimeType: info.mimeType };
      const refused = refusal(meta);
      if (refused) {
        stream.resume();
        fail(refused);
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
        if (!failed) {
          settled = true;
          resolve({ fields, file });
        }
      }, fail);
    });
    source.on('error', () => {
      cutOff = true;
      fail(interrupted());
    });
    // The client went away: node-server aborts the signal, but the body stream may just stop.
    req.signal?.addEventListener('abort', () => {
      cutOff = true;
      fail(interrupted());
    });
    source.pipe(bb);
  });
}

/** Why a file part's name or type cannot be kept (both go back out in headers), or undefined. */
function refusal(meta: { field: string; filename: string; mimeType: string }): ApiError | undefined {
  if (isUnstorable(meta.filename) || isUnstorable(meta.field) || hasControlChars(meta.filename)) {
    return new ApiError(
      'invalid_request',
      'The file name must not contain control characters or unpaired surrogates.',
      'file',
    );
  }
  if (!isMediaType(meta.mimeType)) {
    return new ApiError(
      'invalid_request',
      "The file part's Content-Type must be a media type such as text/plain (ASCII, at most 255 characters).",
      'file',
    );
  }
  return undefined;
}

/** Reads and drops what is left of a refused body (bounded), so the client can read the answer. */
function drain(source: Readable) {
  let left = DRAIN_MAX_BYTES;
  source.on('data', (chunk: Uint8Array) => {
    left -= chunk.byteLength;
    if (left < 0) source.destroy();
  });
  source.on('error', () => {});
  source.resume();
}
