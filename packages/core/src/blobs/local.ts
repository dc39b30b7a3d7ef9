import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { limitBytes } from './limit.ts';
import type { BlobStore } from './store.ts';

/** Where uploads are written before they are renamed into place (a blob key never starts with a dot). */
export const TEMP_DIR = '.tmp';

/** Blobs as files under DATA_DIR/files; written to a temporary name and renamed, so a crash leaves no half file. */
export class LocalBlobStore implements BlobStore {
  private root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'files');
  }

  private path(key: string): string {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(key) || key.includes('..')) throw new Error(`bad blob key ${key}`);
    return join(this.root, key);
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array, opts: { maxBytes?: number } = {}) {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Temporary files live in one folder, so what a killed process left is found without a walk.
    const tmp = join(this.root, TEMP_DIR, `${process.pid}.${randomUUID()}.tmp`);
    await mkdir(dirname(tmp), { recursive: true });
    const file = await open(tmp, 'w');
    let bytes = 0;
    try {
      for await (const chunk of limitBytes(body, opts.maxBytes)) {
        bytes += chunk.byteLength;
        await file.write(chunk);
      }
      await file.sync();
      await file.close();
      await rename(tmp, path);
      return { bytes };
    } catch (err) {
      await file.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(key)));
  }

  stream(key: string): ReadableStream<Uint8Array> {
    return Readable.toWeb(createReadStream(this.path(key))) as ReadableStream<Uint8Array>;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /** Removes unfinished uploads; only for a process that holds DATA_DIR alone (no upload of another is under way). */
  async sweepTemporary(): Promise<number> {
    const dir = join(this.root, TEMP_DIR);
    const left = await readdir(dir).catch(() => []);
    await rm(dir, { recursive: true, force: true });
    return left.length;
  }
}
