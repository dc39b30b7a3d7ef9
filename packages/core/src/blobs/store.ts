import type { Config } from '../config.ts';
import { LocalBlobStore } from './local.ts';
import { S3BlobStore } from './s3.ts';

/** Raw file bytes: DATA_DIR/files locally, S3 in production. */
export interface BlobStore {
  /** Stores a body, refusing (ApiError payload_too_large) as soon as it passes maxBytes; nothing partial is kept. */
  put(
    key: string,
    body: AsyncIterable<Uint8Array> | Uint8Array,
    opts?: { maxBytes?: number },
  ): Promise<{ bytes: number }>;
  get(key: string): Promise<Uint8Array>;
  stream(key: string): ReadableStream<Uint8Array>;
  delete(key: string): Promise<void>;
  /**
   * A short-lived URL that serves the blob itself (S3), with the given download name and type: downloads of
   * any size go there instead of through the API (Lambda's response cap). Absent: stream().
   */
  presignGet?(key: string, opts: { contentType: string; contentDisposition: string }): Promise<string>;
  /** Removes what killed uploads left half-written (local store; S3 aborts them by lifecycle rule). */
  sweepTemporary?(): Promise<number>;
}

/** The blob store the config asks for. */
export function createBlobStore(config: Config): BlobStore {
  if (config.BLOB_STORE === 's3') {
    return new S3BlobStore({
      bucket: config.S3_BUCKET!,
      region: config.AWS_REGION,
      endpoint: config.S3_ENDPOINT,
    });
  }
  return new LocalBlobStore(config.DATA_DIR);
}
