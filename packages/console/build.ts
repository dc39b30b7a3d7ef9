// `npm run build:console`: bundles the console (Preact) and the /docs starter with esbuild into dist/,
// which is committed (docs/ARCHITECTURE.md says why). Content-hashed names; the HTML pages name them.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DIST = join(HERE, 'dist');

const swaggerVersion = () =>
  (
    JSON.parse(readFileSync(join(HERE, '../../node_modules/swagger-ui-dist/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

const page = (title: string, head: string, body: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
${head}
  </head>
  <body>
${body}
  </body>
</html>
`;

export interface ConsoleBuild {
  /** path under dist -> bytes */
  files: Map<string, Uint8Array>;
}

/** Builds everything in memory: assets/app-HASH.js, assets/app-HASH.css, assets/docs-HASH.js, index.html, docs.html. */
export async function buildConsole(): Promise<ConsoleBuild> {
  const result = await build({
    absWorkingDir: HERE,
    entryPoints: { app: 'src/main.tsx', docs: 'src/docs.ts' },
    outdir: 'dist/assets',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  const files = new Map<string, Uint8Array>();
  const named: Record<string, string> = {};
  for (const out of result.outputFiles) {
    const name = `assets/${basename(out.path)}`;
    files.set(name, out.contents);
    named[basename(out.path).replace(/-[A-Z0-9]+\./, '.')] = `/console/${name}`;
  }
  const app = named['app.js']!;
  const css = named['app.css']!;
  const docs = named['docs.js']!;
  files.set(
    'index.html',
    new TextEncoder().encode(
      page(
        'vectordb console',
        `    <link rel="stylesheet" href="${css}" />\n    <script type="module" src="${app}"></script>`,
        '    <a class="skip" href="#main">Skip to content</a>\n    <div id="app"></div>\n    <div id="live" class="sr-only" aria-live="polite"></div>',
      ),
    ),
  );
  const sw = `/docs/assets/swagger-ui-${swaggerVersion()}`;
  files.set(
    'docs.html',
    new TextEncoder().encode(
      page(
        'vectordb API reference',
        `    <link rel="stylesheet" href="${sw}/swagger-ui.css" />\n    <script src="${sw}/swagger-ui-bundle.js" defer></script>\n    <script src="${docs}" defer></script>`,
        '    <div id="swagger-ui" data-url="/openapi.json"></div>',
      ),
    ),
  );
  return { files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files } = await buildConsole();
  rmSync(DIST, { recursive: true, force: true });
  for (const [name, body] of files) {
    mkdirSync(dirname(join(DIST, name)), { recursive: true });
    writeFileSync(join(DIST, name), body);
  }
  let raw = 0;
  let gz = 0;
  for (const [name, body] of [...files].sort()) {
    const z = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gz += z;
    console.log(`${name.padEnd(28)} ${String(body.length).padStart(7)} B  ${String(z).padStart(6)} B gzip`);
  }
  console.log(`console total ${raw} B, ${gz} B gzip`);
}
