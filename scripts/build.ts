// `npm run build`: one self-contained ESM bundle per Lambda handler in dist/<name>/, deployed as is by infra/.
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The handlers: name -> entry. infra/ points each function at dist/<name>, handler `index.handler`. */
export const HANDLERS = {
  api: 'packages/functions/src/api.ts',
  worker: 'packages/functions/src/worker.ts',
  migrate: 'packages/functions/src/migrate.ts',
  maintenance: 'packages/functions/src/maintenance.ts',
} as const;
export type HandlerName = keyof typeof HANDLERS;

/** Only loaded when DATABASE_URL is unset (npm start, tests): never on Lambda, so never in a bundle. */
const EMBEDDED_ONLY = [
  '@electric-sql/pglite',
  '@electric-sql/pglite-pgvector',
  '@electric-sql/pglite-socket',
];

/**
 * The thread pools' worker modules, bundled beside each handler, where their pools look for them: the ingest
 * CPU pool's (cpu-pool.ts) and the local embedder's (embedding/local.ts; without it, it embeds in place).
 */
const WORKER_TASKS = {
  'ingest-task': 'packages/core/src/ingest/cpu-task.ts',
  'local-embed-task': 'packages/core/src/embedding/local-task.ts',
};

/**
 * tinypool starts its threads from its own entry file (found beside its module), so it is not bundled: the
 * package (no dependencies) is copied into the handler's node_modules, where Node resolves it as usual.
 */
const COPIED = ['tinypool'];

function copyPackages(dir: string) {
  const req = createRequire(join(ROOT, 'packages/core/package.json'));
  for (const name of COPIED) {
    const from = dirname(req.resolve(`${name}/package.json`));
    const to = join(dir, 'node_modules', name);
    cpSync(join(from, 'package.json'), join(to, 'package.json'));
    cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
  }
}

/**
 * gpt-tokenizer's cl100k tables are 1 MB of source that V8 compiles, and turns into 100k-entry maps, when
 * imported: ~300 ms of every cold start, even for requests that never count a token. In the bundles, its two
 * entry points become stand-ins that require TOKENIZER_FILE (the real modules, bundled apart beside the
 * handler) on first use.
 */
const TOKENIZER_FILE = 'cl100k.cjs';

const lazyTokenizer = (names: { fns: string[]; values: Record<string, unknown> }): Plugin => ({
  name: 'lazy-tokenizer',
  setup(b) {
    b.onResolve({ filter: /^gpt-tokenizer\/(encoding|bpeRanks)\/cl100k_base$/ }, (a) => ({
      path: a.path,
      namespace: 'lazy-tokenizer',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-tokenizer' }, (a) => {
      // The stand-in may land in index.mjs or in chunks/: look beside it, then one level up.
      const load =
        "import{existsSync as __ex}from'node:fs';let m;const load=()=>(m??=require(" +
        `[new URL('./${TOKENIZER_FILE}',import.meta.url),new URL('../${TOKENIZER_FILE}',import.meta.url)]` +
        '.map((u)=>u.pathname).find(__ex)));';
      const contents = a.path.includes('bpeRanks')
        ? `${load}export default new Proxy([],{get:(_,k)=>load().bpeRanks[k],has:(_,k)=>k in load().bpeRanks});`
        : load +
          names.fns.map((n) => `export const ${n}=(...a)=>load().${n}(...a);`).join('') +
          Object.entries(names.values)
            .map(([n, v]) => `export const ${n}=${JSON.stringify(v)};`)
            .join('');
      return { contents, loader: 'js', resolveDir: ROOT };
    });
  },
});

/**
 * zod re-exports every translation of its messages (`z.locales`), and because `z` is used as a namespace
 * object the bundle would keep all of them: a quarter of a megabyte to compile at each cold start. Only
 * English is used (zod configures it itself), so `locales` is reduced to it.
 */
const englishOnlyZod: Plugin = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(a.importer)
        ? { path: a.importer, namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({
      contents: "export { default as en } from '../locales/en.js';",
      resolveDir: dirname(a.path),
      loader: 'js',
    }));
  },
};

/** Bundles the real tokenizer (encoding API and rank table) into one CommonJS file beside a handler. */
async function buildTokenizer(dir: string) {
  await build({
    absWorkingDir: ROOT,
    stdin: {
      contents:
        "module.exports={...require('gpt-tokenizer/cjs/encoding/cl100k_base')," +
        "bpeRanks:require('gpt-tokenizer/cjs/bpeRanks/cl100k_base').default};",
      resolveDir: join(ROOT, 'packages/core'),
      loader: 'js',
    },
    outfile: join(dir, TOKENIZER_FILE),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

function tokenizerNames() {
  const real = createRequire(join(ROOT, 'packages/core/package.json'))(
    'gpt-tokenizer/cjs/encoding/cl100k_base',
  );
  const names = Object.keys(real).filter((n) => n !== 'default');
  const fns = names.filter((n) => typeof real[n] === 'function');
  return { fns, values: Object.fromEntries(names.filter((n) => !fns.includes(n)).map((n) => [n, real[n]])) };
}

export interface BundleReport {
  name: HandlerName;
  dir: string;
  /** The entry file and the chunks it imports statically: what a cold start loads before the first event. */
  initialBytes: number;
  /** Everything in the bundle directory (lazy chunks for PDF/DOCX extraction, the AWS SDK, ...). */
  totalBytes: number;
}

function staticClosure(meta: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of meta.outputs[file]?.imports ?? []) {
      if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
    }
  };
  visit(entry);
  return [...seen];
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .reduce((n, d) => n + statSync(join(d.parentPath, d.name)).size, 0);
}

/** The console's committed build and Swagger UI's files, read by the api function from beside its bundle. */
function copyBrowserAssets(dir: string) {
  cpSync(join(ROOT, 'packages/console/dist'), join(dir, 'console'), { recursive: true });
  const swagger = join(ROOT, 'node_modules/swagger-ui-dist');
  mkdirSync(join(dir, 'swagger-ui'), { recursive: true });
  for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'package.json']) {
    cpSync(join(swagger, f), join(dir, 'swagger-ui', f));
  }
}

/** Bundles every handler into `outdir` (dist/ by default) and returns their sizes. */
export async function buildHandlers(outdir = join(ROOT, 'dist')): Promise<BundleReport[]> {
  const reports: BundleReport[] = [];
  const tokenizer = tokenizerNames();
  for (const [name, entry] of Object.entries(HANDLERS) as [HandlerName, string][]) {
    const dir = join(outdir, name);
    rmSync(dir, { recursive: true, force: true });
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: { index: entry, ...WORKER_TASKS },
      outdir: dir,
      bundle: true,
      splitting: true, // dynamic imports (PDF, DOCX, HTML extraction; the AWS SDK) become chunks loaded on use
      format: 'esm',
      platform: 'node',
      target: 'node24',
      minify: true,
      treeShaking: true,
      legalComments: 'none',
      mainFields: ['module', 'main'],
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      external: [...EMBEDDED_ONLY, ...COPIED],
      // CommonJS dependencies inside an ESM bundle still call require() for Node's built-ins.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      plugins: [lazyTokenizer(tokenizer), englishOnlyZod],
      metafile: true,
      logLevel: 'warning',
    });
    const leaked = Object.keys(result.metafile.inputs).filter((f) =>
      EMBEDDED_ONLY.some((p) => f.includes(p)),
    );
    if (leaked.length) throw new Error(`${name}: the embedded database leaked into the bundle: ${leaked[0]}`);
    await buildTokenizer(dir);
    copyPackages(dir);
    if (name === 'migrate') cpSync(join(ROOT, 'migrations'), join(dir, 'migrations'), { recursive: true });
    if (name === 'api') copyBrowserAssets(dir);
    mkdirSync(join(outdir, 'meta'), { recursive: true });
    writeFileSync(join(outdir, 'meta', `${name}.json`), JSON.stringify(result.metafile));
    const entryOut = relative(ROOT, join(dir, 'index.mjs'));
    const initialBytes = staticClosure(result.metafile, entryOut).reduce(
      (n, f) => n + (result.metafile.outputs[f]?.bytes ?? 0),
      0,
    );
    reports.push({ name, dir, initialBytes, totalBytes: dirBytes(dir) });
  }
  return reports;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const reports = await buildHandlers(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const r of reports) {
    console.log(
      `${r.name.padEnd(12)} ${relative(ROOT, r.dir)}  loads ${mb(r.initialBytes)} at cold start, ${mb(r.totalBytes)} in all`,
    );
  }
  console.log(`built ${reports.length} handlers in ${Math.round(performance.now() - started)} ms`);
}
