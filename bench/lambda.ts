// The bundled Lambda api handler: its size, and a cold start (fresh process, import, one /health event).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { ROOT } from './corpus.ts';
import { median, progress, round } from './stats.ts';

export interface LambdaResult {
  /** Everything shipped for the api function (its dist/ directory without source maps). */
  api_bundle_bytes: number | null;
  /** The entry file alone. */
  api_entry_bytes: number | null;
  /** The entry and the chunks it imports statically: what a cold start loads (from esbuild's metafile). */
  api_initial_bytes: number | null;
  api_cold_start_ms: number | null;
  /** The fastest of the runs: the least disturbed by other work on a shared machine. */
  api_cold_start_min_ms: number | null;
  /** Parts of the cold start: node's own start, then importing the bundle (medians). */
  node_boot_ms: number | null;
  api_import_ms: number | null;
  runs: number;
  bundle: string | null;
  /** Why a figure is null, or how it was obtained. */
  note: string;
}

export const LAMBDA_UNMEASURED: Omit<LambdaResult, 'note'> = {
  api_bundle_bytes: null,
  api_entry_bytes: null,
  api_initial_bytes: null,
  api_cold_start_ms: null,
  api_cold_start_min_ms: null,
  node_boot_ms: null,
  api_import_ms: null,
  runs: 0,
  bundle: null,
};

const CANDIDATES = /(^|\/)api(\/(index|handler|api))?\.m?js$/;

/** The api bundle under dist/, if a build produced one. */
export function findApiBundle(dir = join(ROOT, 'dist')): string | null {
  if (!existsSync(dir)) return null;
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  const hits = files.filter((f) => CANDIDATES.test(relative(dir, f).replaceAll('\\', '/')));
  hits.sort((a, b) => relative(dir, a).length - relative(dir, b).length);
  return hits[0] ?? null;
}

/** Bytes Lambda would load: the bundle's own directory when it has one (chunks, no source maps), else the file. */
export function bundleBytes(bundle: string): number {
  const dir = dirname(bundle);
  if (basename(dir) !== 'api') return statSync(bundle).size;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.map')) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return bytes;
}

// Runs in the fresh process: plain JavaScript, so nothing but the bundle is compiled or loaded.
const CHILD = `
const boot = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE);
const imported = performance.now();
const now = Date.now();
const event = {
  version: '2.0', routeKey: '$default', rawPath: '/health', rawQueryString: '', isBase64Encoded: false,
  headers: { host: 'bench.execute-api.us-east-1.amazonaws.com', 'user-agent': 'bench' },
  requestContext: {
    accountId: '123456789012', apiId: 'bench', domainName: 'bench.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'bench', requestId: 'cold-' + now, routeKey: '$default', stage: '$default',
    time: new Date(now).toUTCString(), timeEpoch: now,
    http: { method: 'GET', path: '/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
  },
};
const context = {
  callbackWaitsForEmptyEventLoop: false, functionName: 'api', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:api', memoryLimitInMB: '1024',
  awsRequestId: 'cold-' + now, logGroupName: '/aws/lambda/api', logStreamName: 'bench',
  getRemainingTimeInMillis: () => 30000, done() {}, fail() {}, succeed() {},
};
const res = await handler(event, context);
const answered = performance.now();
process.stdout.write(JSON.stringify({ boot, imported, answered, status: res.statusCode, body: res.body }));
process.exit(0);
`;

/**
 * Builds the handlers into a private directory (others may be rebuilding dist/ meanwhile) when there is
 * a `npm run build`, else takes dist/ as found.
 */
function locateBundle():
  | { bundle: string; outdir: string; how: string; temporary: boolean }
  | { note: string } {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts.build) {
    const bundle = findApiBundle();
    return bundle
      ? { bundle, outdir: join(ROOT, 'dist'), how: 'dist/ as found (no `npm run build`)', temporary: false }
      : { note: 'not measured: there is no `npm run build` yet, so no api bundle under dist/' };
  }
  const outdir = mkdtempSync(join(tmpdir(), 'vsdb-bench-build-'));
  progress(`lambda: npm run build -- ${outdir}`);
  const build = spawnSync('npm', ['run', 'build', '--', outdir], { cwd: ROOT, encoding: 'utf8' });
  const bundle = build.status === 0 ? findApiBundle(outdir) : null;
  if (!bundle) {
    rmSync(outdir, { recursive: true, force: true });
    const why = (build.stderr || build.stdout).trim().split('\n').slice(-3).join(' ');
    return {
      note: `not measured: npm run build ${build.status === 0 ? 'left no api bundle' : `failed: ${why}`}`,
    };
  }
  return { bundle, outdir, how: 'built by this run', temporary: true };
}

/** Bytes of the entry and its static imports, from the build's esbuild metafile (meta/api.json) if there is one. */
export function initialBytes(bundle: string, outdir: string): number | null {
  const metaPath = join(outdir, 'meta', 'api.json');
  if (!existsSync(metaPath)) return null;
  const outputs: Record<
    string,
    { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }
  > = JSON.parse(readFileSync(metaPath, 'utf8')).outputs;
  const entry = Object.keys(outputs).find((k) => join(ROOT, k) === bundle);
  if (!entry) return null;
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !outputs[file]) return;
    seen.add(file);
    for (const imp of outputs[file].imports)
      if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(entry);
  return [...seen].reduce((n, f) => n + outputs[f]!.bytes, 0);
}

/**
 * Cold start = the fresh process's clock (from its own start) when /health has answered: node's
 * start-up, the import, the app and its database connection. The median of `runs` processes.
 */
export async function benchLambda(opts: {
  runs: number;
  env: Record<string, string>;
  /** A bundle to measure instead of building one (tests). */
  bundle?: string;
}): Promise<LambdaResult> {
  const found = opts.bundle
    ? { bundle: opts.bundle, outdir: dirname(dirname(opts.bundle)), how: 'given', temporary: false }
    : locateBundle();
  if ('note' in found) return { ...LAMBDA_UNMEASURED, note: found.note };
  try {
    return await measure(found.bundle, found.outdir, found.how, opts);
  } finally {
    if (found.temporary) rmSync(found.outdir, { recursive: true, force: true });
  }
}

async function measure(
  bundle: string,
  outdir: string,
  how: string,
  opts: { runs: number; env: Record<string, string> },
): Promise<LambdaResult> {
  const name = relative(outdir, bundle);
  const sizes = {
    api_bundle_bytes: bundleBytes(bundle),
    api_entry_bytes: statSync(bundle).size,
    api_initial_bytes: initialBytes(bundle, outdir),
    bundle: name,
  };
  const samples: { boot: number; imported: number; answered: number }[] = [];
  for (let i = 0; i < opts.runs; i++) {
    // Not spawnSync: the embedded database the child connects to is served by this process's event loop.
    const child = await runChild(bundle, {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...opts.env,
    });
    let parsed:
      | { boot: number; imported: number; answered: number; status: number; body?: string }
      | undefined;
    try {
      // The last line: the handler's EMF metric lines (one JSON object each) come before it.
      parsed = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '');
    } catch {}
    if (parsed?.status !== 200) {
      const why = child.stdout.trim() || child.stderr.trim().split('\n').slice(0, 6).join(' ');
      return {
        ...LAMBDA_UNMEASURED,
        ...sizes,
        note: `cold start not measured: the bundle did not answer /health with 200 (${why.slice(0, 400)})`,
      };
    }
    samples.push(parsed);
  }
  const result: LambdaResult = {
    ...sizes,
    api_cold_start_ms: round(median(samples.map((s) => s.answered)), 1),
    api_cold_start_min_ms: round(Math.min(...samples.map((s) => s.answered)), 1),
    node_boot_ms: round(median(samples.map((s) => s.boot)), 1),
    api_import_ms: round(median(samples.map((s) => s.imported - s.boot)), 1),
    runs: samples.length,
    note: `median of ${samples.length} fresh node processes answering GET /health, ${how}`,
  };
  progress(`lambda: ${JSON.stringify(result)}`);
  return result;
}

function runChild(bundle: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: dirname(bundle),
      env: { ...env, BENCH_BUNDLE: bundle },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}
