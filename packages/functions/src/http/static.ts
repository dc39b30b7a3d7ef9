// Serves the browser assets (the console's build, Swagger UI's files) from memory, read once from disk.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Only our own origin: the pages load nothing from a third-party host. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | undefined;
  type: string;
  etag: string;
}

/**
 * Finds a directory of assets: `bundled` is its name beside the Lambda bundle (scripts/build.ts copies it
 * there, next to index.mjs, which may import this module from chunks/); `local` is where it is in the repo.
 */
export function assetDir(bundled: string, local: () => string | undefined): string {
  const candidates = [
    fileURLToPath(new URL(`./${bundled}/`, import.meta.url)),
    fileURLToPath(new URL(`../${bundled}/`, import.meta.url)),
  ];
  try {
    const dir = local();
    if (dir) candidates.unshift(dir);
  } catch {
    // not resolvable from here (inside the Lambda bundle): the copy beside the bundle is used
  }
  const found = candidates.find((d) => existsSync(d));
  if (!found) throw new Error(`browser assets not found; looked in ${candidates.join(', ')}`);
  return found;
}

/** The directory of an installed package, when node_modules is reachable. */
export const packageDir = (name: string) => () =>
  join(createRequire(import.meta.url).resolve(`${name}/package.json`), '..');

/** Reads the named files (or every file) of `dir` once, on first use, with a gzip copy of the text ones. */
export function assetStore(dir: () => string, only?: string[]) {
  let files: Map<string, Asset> | undefined;
  const load = () => {
    if (files) return files;
    const base = dir();
    const names = only ?? readdirSync(base, { recursive: true, encoding: 'utf8' });
    files = new Map();
    for (const name of names) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const body = new Uint8Array(readFileSync(join(base, name)));
      const gzip = type.startsWith('image/png') ? undefined : new Uint8Array(gzipSync(body, { level: 9 }));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(name.replaceAll('\\', '/'), { body, gzip, type, etag });
    }
    return files;
  };
  return {
    /** The text of a file in the store (e.g. a package.json), or undefined. */
    text: (name: string) => {
      const a = load().get(name);
      return a && new TextDecoder().decode(a.body);
    },
    /** The asset as a response; `immutable` for content-hashed or versioned names, else revalidated each time. */
    send(c: Context, name: string, immutable: boolean): Response | undefined {
      const asset = load().get(name);
      if (!asset) return undefined;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        vary: 'accept-encoding',
        etag: asset.etag,
      };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      if (asset.type.startsWith('text/html')) headers['content-security-policy'] = PAGE_CSP;
      const gzip = asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
      if (gzip) headers['content-encoding'] = 'gzip';
      return c.body(gzip ? asset.gzip! : asset.body, 200, headers);
    },
  };
}
