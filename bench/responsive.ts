// `node bench/responsive.ts [--quick] [--out=FILE]`: how promptly `npm start` answers while it ingests, and the
// memory it holds. Spawns the real server on a fresh DATA_DIR (embedded engine, defaults), probes `/health` and a
// read back to back over two keep-alive connections while the corpus, a large PDF and each pathological file of
// issue #14 ingest, and samples the server's resident memory (VmRSS, all its threads) every 50 ms.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { largePdf, pathologicalFiles } from '../test/pathological.ts';
import { loadTextCorpus, ROOT } from './corpus.ts';
import { arg, progress, quantile, round } from './stats.ts';

interface Reply {
  status: number;
  body: string;
}

function call(agent: Agent, base: string, method: string, path: string, body?: Buffer, type?: string) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method, agent, headers: body ? { 'content-type': type!, 'content-length': body.length } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(filename: string, bytes: Uint8Array) {
  const boundary = `----bench${Math.random().toString(16).slice(2)}`;
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

/** Samples a process's resident memory every 50 ms; `stop` ends it and gives the peak in MB. */
function sampleRss(pid: number) {
  let peak = rssMb(pid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 50);
  return {
    stop: () => {
      clearInterval(sampler);
      return peak;
    },
  };
}

/** Probes one path back to back on its own keep-alive connection until stopped. */
function probe(base: string, path: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ms: number[] = [];
  const errors: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t = performance.now();
      try {
        const r = await call(agent, base, 'GET', path);
        if (r.status !== 200) errors.push(`${r.status} ${r.body.slice(0, 120)}`);
      } catch (err) {
        errors.push((err as NodeJS.ErrnoException).code ?? String(err));
      }
      ms.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
    agent.destroy();
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return {
        probes: ms.length,
        p50_ms: round(quantile(ms, 0.5), 1),
        p99_ms: round(quantile(ms, 0.99), 1),
        max_ms: round(Math.max(...ms), 1),
        errors: errors.length,
        first_error: errors[0] ?? null,
      };
    },
  };
}

let server: ReturnType<typeof spawn> | undefined;

type Probe = Awaited<ReturnType<ReturnType<typeof probe>['stop']>>;
interface Scenario {
  name: string;
  seconds: number;
  health: Probe;
  read: Probe;
  driver_resets: number;
  peak_rss_mb: number;
  last_error: { message: string } | null;
}

/** 1 MB of real prose per file, its paragraphs in a different order each (no two files share chunks). */
function uniqueText(paragraphs: string[], seed: number, bytes: number): Uint8Array {
  let x = seed * 2654435761 + 1;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const order = paragraphs.map((p) => ({ p, k: next() })).sort((a, b) => a.k - b.k);
  let out = `File ${seed}.\n\n`;
  for (const { p } of order) {
    if (out.length >= bytes) break;
    out += `${p}\n\n`;
  }
  return new TextEncoder().encode(out.slice(0, bytes));
}

/**
 * An ingest backlog: `count` 1 MB files uploaded four at a time and each attached on its own (a job apiece, as a
 * MAIA client's uploads make), while `/health`, a store read and a 100-item file list are probed back to back.
 */
async function backlog(
  base: string,
  pid: number,
  send: (method: string, path: string, body?: Buffer, type?: string) => Promise<Reply>,
  json: (method: string, path: string, value?: unknown) => Promise<ReturnType<typeof JSON.parse>>,
  count: number,
): Promise<Scenario & { list: Probe; file_counts: unknown }> {
  const name = `backlog (${count} × 1 MB, attached one by one, 4 uploads at a time)`;
  progress(`ingesting ${name}`);
  const store = await json('POST', '/v1/vector_stores', { name: 'backlog' });
  const paragraphs = loadTextCorpus()
    .docs.flatMap((d) => d.text.split(/\n\s*\n/))
    .filter((p) => p.trim().length > 40);
  const rss = sampleRss(pid);
  const health = probe(base, '/health');
  const read = probe(base, `/v1/vector_stores/${store.id}`);
  const list = probe(base, `/v1/vector_stores/${store.id}/files?limit=100`);
  const started = performance.now();
  let next = 0;
  const uploader = async () => {
    while (next < count) {
      const i = next++;
      const form = multipart(`backlog${i}.txt`, uniqueText(paragraphs, i + 1, 1_000_000));
      const file = JSON.parse((await send('POST', '/v1/files', form.body, form.type)).body);
      await json('POST', `/v1/vector_stores/${store.id}/files`, { file_id: file.id });
    }
  };
  await Promise.all([uploader(), uploader(), uploader(), uploader()]);
  const uploaded = (performance.now() - started) / 1000;
  let state = await json('GET', `/v1/vector_stores/${store.id}`);
  let firstDone: number | null = null;
  let reported = -1;
  while (state.file_counts.in_progress > 0) {
    await new Promise((r) => setTimeout(r, 250));
    state = await json('GET', `/v1/vector_stores/${store.id}`);
    const done = state.file_counts.completed + state.file_counts.failed;
    if (done > 0) firstDone ??= (performance.now() - started) / 1000;
    if (done !== reported)
      progress(`${done}/${count} files done at ${((performance.now() - started) / 1000).toFixed(0)} s`);
    reported = done;
  }
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  const failed = await json('GET', `/v1/vector_stores/${store.id}/files?filter=failed&limit=1`);
  const result = {
    name,
    driver_resets: 0,
    seconds: round(seconds, 1),
    uploads_seconds: round(uploaded, 1),
    first_file_seconds: firstDone === null ? null : round(firstDone, 1),
    file_counts: state.file_counts,
    last_error: failed.data?.[0]?.last_error ?? null,
    health: await health.stop(),
    read: await read.stop(),
    list: await list.stop(),
    peak_rss_mb: Math.round(peak),
  };
  progress(JSON.stringify(result));
  return result;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const out = arg('out') ?? join(ROOT, 'bench/results/responsive.json');
  const databaseUrl = arg('database-url');
  const dir = mkdtempSync(join(tmpdir(), 'vsdb-responsive-'));
  const proc = spawn(process.execPath, [join(ROOT, 'packages/functions/src/local.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'info',
      // --database-url=postgres://... runs the same scenarios on a native server (fresh database wanted).
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = proc;
  let log = '';
  const base = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(log);
      if (m) resolve(m[1]!);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`server exited ${code}:\n${log}`)));
  });
  const pid = proc.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  // The driver's own requests (uploads, polls) retry a reset connection, counting it: resets are a finding.
  let driverResets = 0;
  const send = async (method: string, path: string, body?: Buffer, type?: string): Promise<Reply> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(agent, base, method, path, body, type);
      } catch (err) {
        if (attempt >= 5) throw err;
        driverResets++;
      }
    }
  };
  const json = (method: string, path: string, value?: unknown) =>
    send(method, path, value ? Buffer.from(JSON.stringify(value)) : undefined, 'application/json').then((r) =>
      JSON.parse(r.body),
    );
  const store = await json('POST', '/v1/vector_stores', { name: 'responsive' });
  for (let i = 0; i < 20; i++) await send('GET', '/health'); // warm
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMb(pid);
  progress(`idle RSS ${idleRss.toFixed(0)} MB`);

  const corpus = loadTextCorpus();
  const docs = quick ? corpus.docs.slice(0, 100) : corpus.docs;
  const scenarios: { name: string; files: { filename: string; bytes: Uint8Array }[] }[] = [
    {
      name: `corpus (${docs.length} files, ${(docs.reduce((n, d) => n + d.text.length, 0) / 1e6).toFixed(1)} MB)`,
      files: docs.map((d, i) => ({ filename: `doc${i}.md`, bytes: new TextEncoder().encode(d.text) })),
    },
    { name: 'large PDF (200 pages)', files: [{ filename: 'large.pdf', bytes: await largePdf(200) }] },
    ...(await pathologicalFiles()).map((f) => ({ name: f.name, files: [f] })),
  ];
  // --scenarios=N runs the first N only (a short trial); --backlog-only skips to the backlog, --no-backlog
  // skips it, --backlog-files=N sizes it.
  const limit = process.argv.includes('--backlog-only') ? 0 : Number(arg('scenarios') ?? scenarios.length);
  scenarios.splice(limit);
  // --scenario=TEXT runs the scenarios whose name holds TEXT (e.g. --scenario=CSV --no-backlog).
  const only = arg('scenario');
  if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => s.name.includes(only)));
  const results: object[] = [];
  let peakRss = idleRss;
  if (!process.argv.includes('--no-backlog')) {
    const files = arg('backlog-files');
    const r = await backlog(base, pid, send, json, Number(files ?? (quick ? 8 : 20)));
    r.driver_resets = driverResets;
    driverResets = 0;
    peakRss = Math.max(peakRss, r.peak_rss_mb);
    results.push(r);
  }
  for (const s of scenarios) {
    progress(`ingesting ${s.name}`);
    const rss = sampleRss(pid);
    const health = probe(base, '/health');
    const read = probe(base, `/v1/vector_stores/${store.id}`);
    const started = performance.now();
    const ids: string[] = [];
    for (const f of s.files) {
      const form = multipart(f.filename, f.bytes);
      const file = JSON.parse((await send('POST', '/v1/files', form.body, form.type)).body);
      ids.push(file.id);
    }
    const batch = await json('POST', `/v1/vector_stores/${store.id}/file_batches`, { file_ids: ids });
    let state = batch;
    while (state.status === 'in_progress') {
      await new Promise((r) => setTimeout(r, 100));
      state = await json('GET', `/v1/vector_stores/${store.id}/file_batches/${batch.id}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = rss.stop();
    const failed = await json(
      'GET',
      `/v1/vector_stores/${store.id}/file_batches/${batch.id}/files?filter=failed&limit=1`,
    );
    const resets = driverResets;
    driverResets = 0;
    const result = {
      name: s.name,
      driver_resets: resets,
      seconds: round(seconds, 1),
      file_counts: state.file_counts,
      last_error: failed.data?.[0]?.last_error ?? null,
      health: await health.stop(),
      read: await read.stop(),
      peak_rss_mb: Math.round(peak),
    };
    peakRss = Math.max(peakRss, peak);
    progress(JSON.stringify(result));
    results.push(result);
  }
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  const report = {
    when: new Date().toISOString(),
    quick,
    idle_rss_mb: Math.round(idleRss),
    peak_rss_mb: Math.round(peakRss),
    scenarios: results,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`idle RSS ${report.idle_rss_mb} MB, peak ${report.peak_rss_mb} MB`);
  console.log('scenario | s | health p99 / max ms | read p99 / max ms | errors | peak RSS MB | outcome');
  for (const r of results as Scenario[]) {
    console.log(
      `${r.name} | ${r.seconds} | ${r.health.p99_ms} / ${r.health.max_ms} | ${r.read.p99_ms} / ${r.read.max_ms} | ${r.health.errors + r.read.errors + r.driver_resets} | ${r.peak_rss_mb} | ${r.last_error ? `failed: ${r.last_error.message}` : 'completed'}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  server?.kill('SIGKILL');
  process.exit(1);
});
