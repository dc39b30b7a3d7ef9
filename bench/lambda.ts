// The bundled Lambda api handler: its size, and a cold start (fresh process, import, one /health event).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ROOT } from './corpus.ts';
import { median, progress, round } from './stats.ts';

export interface LambdaResult {
  /** Everything shipped for the api function (its dist/ directory without source maps). */
  api_bundle_bytes: number | null;
  /** The entry file alone; the rest are chunks imported lazily (extraction libraries, AWS SDK). */
  api_entry_bytes: number | null;
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
 * Cold start = the fresh process's clock (from its own start) when /health has answered: node's
 * start-up, the import, the app and its database connection. The median of `runs` processes.
 */
export async function benchLambda(opts: {
  runs: number;
  env: Record<string, string>;
  bundle?: string | null;
}): Promise<LambdaResult> {
  let bundle = opts.bundle === undefined ? findApiBundle() : opts.bundle;
  let built = ' (dist/ as found: there is no `npm run build` to refresh it)';
  if (opts.bundle === undefined) {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
    if (!scripts.build && !bundle) {
      return {
        ...LAMBDA_UNMEASURED,
        note: 'not measured: there is no `npm run build` yet, so no api bundle under dist/',
      };
    }
    if (scripts.build) {
      // Always rebuild, so the figures describe this tree and not an older dist/.
      progress('lambda: npm run build');
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) {
        return {
          ...LAMBDA_UNMEASURED,
          note: `not measured: npm run build failed: ${(build.stderr || build.stdout).trim().split('\n').slice(-3).join(' ')}`,
        };
      }
      built = ', built by this run';
      bundle = findApiBundle();
    }
  }
  if (!bundle) {
    return {
      ...LAMBDA_UNMEASURED,
      note: 'not measured: `npm run build` left no api bundle under dist/',
    };
  }
  const bytes = bundleBytes(bundle);
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
      parsed = JSON.parse(child.stdout.trim());
    } catch {}
    if (parsed?.status !== 200) {
      const why = child.stdout.trim() || child.stderr.trim().split('\n').slice(0, 6).join(' ');
      return {
        ...LAMBDA_UNMEASURED,
        api_bundle_bytes: bytes,
        api_entry_bytes: statSync(bundle).size,
        bundle: relative(ROOT, bundle),
        note: `cold start not measured: the bundle did not answer /health with 200 (${why.slice(0, 400)})`,
      };
    }
    samples.push(parsed);
  }
  const result: LambdaResult = {
    api_bundle_bytes: bytes,
    api_cold_start_ms: round(median(samples.map((s) => s.answered)), 1),
    api_cold_start_min_ms: round(Math.min(...samples.map((s) => s.answered)), 1),
    node_boot_ms: round(median(samples.map((s) => s.boot)), 1),
    api_import_ms: round(median(samples.map((s) => s.imported - s.boot)), 1),
    runs: samples.length,
    bundle: relative(ROOT, bundle),
    note: `median of ${samples.length} fresh node processes answering GET /health${built}`,
    api_entry_bytes: statSync(bundle).size,
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
