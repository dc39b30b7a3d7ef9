import type { S3Client } from '@aws-sdk/client-s3';
import { limitBytes } from './limit.ts';
import type { BlobStore } from './store.ts';

/** S3 parts must be at least 5 MiB (but the last); 8 MiB keeps memory small and the part count low. */
export const S3_PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** How long a download URL stays valid: long enough to start the download, short enough not to be shared. */
export const PRESIGN_SECONDS = 300;

type S3Module = typeof import('@aws-sdk/client-s3');

export interface S3BlobStoreOptions {
  bucket: string;
  region?: string;
  /** An S3-compatible endpoint (MinIO, LocalStack, tests); path-style addressing is used with it. */
  endpoint?: string;
  /** Bytes buffered per multipart part. */
  partBytes?: number;
}

/**
 * Blobs as S3 objects. Bodies stream in: up to one part is buffered, a small body is one PutObject, a
 * larger one a multipart upload that is aborted if the body fails or passes maxBytes, so nothing partial
 * is ever visible under the key. The SDK is imported on first use, keeping it off the cold start of
 * requests that never touch a blob.
 */
export class S3BlobStore implements BlobStore {
  private opts: S3BlobStoreOptions;
  private partBytes: number;
  private sdk: Promise<{ s3: S3Module; client: S3Client }> | undefined;

  constructor(opts: S3BlobStoreOptions) {
    this.opts = opts;
    this.partBytes = Math.max(opts.partBytes ?? S3_PART_BYTES, 5 * 1024 * 1024);
  }

  private load() {
    this.sdk ??= import('@aws-sdk/client-s3').then((s3) => ({
      s3,
      client: new s3.S3Client({
        ...(this.opts.region ? { region: this.opts.region } : {}),
        ...(this.opts.endpoint ? { endpoint: this.opts.endpoint, forcePathStyle: true } : {}),
      }),
    }));
    return this.sdk;
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array, opts: { maxBytes?: number } = {}) {
    const { s3, client } = await this.load();
    const Bucket = this.opts.bucket;
    let bytes = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    // Up to PARTS_IN_FLIGHT parts upload while the body keeps streaming in (a few parts of memory at most).
    const inFlight = new Set<Promise<void>>();
    const flush = async () => {
      const Body = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      uploadId ??= (await client.send(new s3.CreateMultipartUploadCommand({ Bucket, Key: key }))).UploadId!;
      const PartNumber = parts.length + 1;
      const part = { ETag: undefined as string | undefined, PartNumber };
      parts.push(part);
      const sent = client
        .send(new s3.UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber, Body }))
        .then((res) => {
          part.ETag = res.ETag;
        });
      inFlight.add(sent);
      sent.then(
        () => inFlight.delete(sent),
        () => {}, // surfaced by the awaits below
      );
      if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
    };
    try {
      for await (const chunk of limitBytes(body, opts.maxBytes)) {
        bytes += chunk.byteLength;
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= this.partBytes) await flush();
      }
      if (uploadId === undefined) {
        const Body = Buffer.concat(pending, pendingBytes);
        await client.send(
          new s3.PutObjectCommand({ Bucket, Key: key, Body, ContentLength: Body.byteLength }),
        );
        return { bytes };
      }
      if (pendingBytes > 0) await flush();
      await Promise.all(inFlight);
      await client.send(
        new s3.CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return { bytes };
    } catch (err) {
      await Promise.allSettled(inFlight);
      if (uploadId !== undefined) {
        await client
          .send(new s3.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }))
          .catch(() => {}); // the bucket's lifecycle rule aborts what is left
      }
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const { s3, client } = await this.load();
    const res = await client.send(new s3.GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
    return res.Body!.transformToByteArray();
  }

  stream(key: string): ReadableStream<Uint8Array> {
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (!reader) {
          const { s3, client } = await this.load();
          const res = await client.send(new s3.GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
          reader = (res.Body!.transformToWebStream() as ReadableStream<Uint8Array>).getReader();
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: async (reason) => {
        await reader?.cancel(reason);
      },
    });
  }

  async presignGet(key: string, opts: { contentType: string; contentDisposition: string }): Promise<string> {
    const { s3, client } = await this.load();
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const command = new s3.GetObjectCommand({
      Bucket: this.opts.bucket,
      Key: key,
      ResponseContentType: opts.contentType,
      ResponseContentDisposition: opts.contentDisposition,
    });
    return getSignedUrl(client, command, { expiresIn: PRESIGN_SECONDS });
  }

  async delete(key: string): Promise<void> {
    const { s3, client } = await this.load();
    await client.send(new s3.DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key }));
  }
}
