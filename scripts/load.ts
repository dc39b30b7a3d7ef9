// npm run load [-- --seconds 25 --connections 8 --json out.json]
// Starts the real server (npm start's entry point) on a fresh DATA_DIR, seeds a store, then drives it for a
// bounded time with a mix of searches, lists and uploads from concurrent keep-alive clients. Fails (exit 1)
// on any 5xx, any request that got no answer, any acknowledged upload that is not there afterwards, or an
// invariant `npm run doctor` finds broken once the server has stopped. Prints p50/p99 per operation.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '25' },
    connections: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const KEY = 'sk-load-test';
const SEED = 24;
const ROOT = join(import.meta.dirname, '..');
const MIX = { search: 0.6, list: 0.25, upload: 0.15 };

const QUERIES = [
  'how do I rotate an api key',
  'retention policy for deleted files',
  'what happens when the database is down',
  'invoice totals by region',
  'error budget and alerting',
  'onboarding checklist for new engineers',
  'latency of vector search',
  'backup and restore procedure',
];
const TOPICS = ['keys', 'retention', 'outages', 'billing', 'alerts', 'onboarding', 'search', 'backups'];

type Op = 'search' | 'list' | 'upload';
interface Sample {
  op: Op;
  ms: number;
  status: number;
}

const doc = (i: number) => {
  const topic = TOPICS[i % TOPICS.length]!;
  return Array.from(
    { length: 12 },
    (_, k) =>
      `Document ${i} on ${topic}, paragraph ${k}: ${QUERIES[(i + k) % QUERIES.length]} and the ${topic} runbook.`,
  ).join('\n\n');
};

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(ROOT, 'packages/functions/src/local.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: dataDir,
      PORT: String(port),
      API_KEYS: KEY,
      EMBEDDING_PROVIDER: 'local',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`the server exited with ${proc.exitCode} before it was ready`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    if (Date.now() > deadline) throw new Error('the server was not ready within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function form(name: string, text: string) {
  const b = 'load-boundary';
  return {
    body: `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${b}\r\nContent-Disposition: form-data; name="attributes"\r\n\r\n{"topic":"${TOPICS[name.length % TOPICS.length]}"}\r\n--${b}--\r\n`,
    type: `multipart/form-data; boundary=${b}`,
  };
}

const pct = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
const round = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vsdb-load-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${KEY}` };
  console.log(`load: starting the server on ${base} (DATA_DIR ${dataDir})`);
  const server = await startServer(dataDir, port);
  let exitCode = 0;
  try {
    const store = (await (
      await fetch(`${base}/v1/vector_stores`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'load' }),
      })
    ).json()) as { id: string };
    const seed = async (i: number) => {
      const f = form(`seed-${i}.txt`, doc(i));
      const res = await fetch(`${base}/v1/vector_stores/${store.id}/files`, {
        method: 'POST',
        headers: { ...auth, 'content-type': f.type },
        body: f.body,
      });
      if (res.status !== 201) throw new Error(`seeding answered ${res.status}: ${await res.text()}`);
    };
    for (let i = 0; i < SEED; i += 4) await Promise.all([i, i + 1, i + 2, i + 3].map(seed));
    console.log(`load: seeded ${SEED} documents; ${CONNECTIONS} connections for ${SECONDS} s`);

    const samples: Sample[] = [];
    const uploaded: string[] = [];
    const failures: string[] = [];
    let n = 0;
    const until = performance.now() + SECONDS * 1000;
    const request = async (op: Op, i: number): Promise<number> => {
      if (op === 'search') {
        const body: Record<string, unknown> = { query: QUERIES[i % QUERIES.length], max_num_results: 5 };
        if (i % 3 === 0) body.filters = { type: 'eq', key: 'topic', value: TOPICS[i % TOPICS.length] };
        const res = await fetch(`${base}/v1/vector_stores/${store.id}/search`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        return res.status;
      }
      if (op === 'list') {
        const paths = [
          '/v1/vector_stores?limit=20',
          `/v1/vector_stores/${store.id}/files?limit=20`,
          '/v1/files?limit=20',
        ];
        const res = await fetch(`${base}${paths[i % paths.length]}`, { headers: auth });
        await res.arrayBuffer();
        return res.status;
      }
      const f = form(`load-${i}.txt`, doc(i));
      const res = await fetch(`${base}/v1/vector_stores/${store.id}/files`, {
        method: 'POST',
        headers: { ...auth, 'content-type': f.type },
        body: f.body,
      });
      const text = await res.text();
      if (res.status === 201) uploaded.push((JSON.parse(text) as { id: string }).id);
      return res.status;
    };
    const client = async () => {
      while (performance.now() < until) {
        const i = n++;
        const r = (i * 0.6180339887) % 1; // low-discrepancy: the mix holds over any stretch of requests
        const op: Op = r < MIX.search ? 'search' : r < MIX.search + MIX.list ? 'list' : 'upload';
        const started = performance.now();
        let status = 0;
        try {
          status = await request(op, i);
        } catch (err) {
          failures.push(`${op}: ${(err as Error).message}`);
        }
        samples.push({ op, ms: performance.now() - started, status });
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, client));
    const elapsed = (performance.now() - started) / 1000;

    // Every acknowledged upload is there, completed.
    const listed = new Map<string, string>();
    let after: string | undefined;
    for (;;) {
      const page = (await (
        await fetch(`${base}/v1/vector_stores/${store.id}/files?limit=100${after ? `&after=${after}` : ''}`, {
          headers: auth,
        })
      ).json()) as { data: { id: string; status: string }[]; has_more: boolean; last_id: string };
      for (const f of page.data) listed.set(f.id, f.status);
      if (!page.has_more) break;
      after = page.last_id;
    }
    const lost = uploaded.filter((id) => listed.get(id) !== 'completed');

    server.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      server.exitCode === null ? server.once('exit', (c) => r(c)) : r(server.exitCode),
    );
    const doctor = spawnSync(process.execPath, [join(ROOT, 'packages/core/src/doctor-cli.ts')], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
      encoding: 'utf8',
    });

    const byOp = (op?: Op) => {
      const xs = samples.filter((s) => !op || s.op === op);
      const ms = xs.map((s) => s.ms).sort((a, b) => a - b);
      return {
        requests: xs.length,
        p50_ms: round(pct(ms, 0.5)),
        p99_ms: round(pct(ms, 0.99)),
        max_ms: round(ms.at(-1) ?? 0),
        non_2xx: xs.filter((s) => s.status < 200 || s.status > 299).length,
      };
    };
    const fivexx = samples.filter((s) => s.status >= 500).length;
    const report = {
      seconds: round(elapsed),
      connections: CONNECTIONS,
      requests: samples.length,
      requests_per_second: round(samples.length / elapsed),
      all: byOp(),
      search: byOp('search'),
      list: byOp('list'),
      upload: byOp('upload'),
      status_5xx: fivexx,
      no_answer: failures.length,
      uploads_acknowledged: uploaded.length,
      uploads_lost: lost.length,
      server_exit_code: code,
      doctor_ok: doctor.status === 0,
    };
    console.log(JSON.stringify(report, null, 2));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    const problems = [
      fivexx && `${fivexx} answers were 5xx`,
      failures.length && `${failures.length} requests got no answer (first: ${failures[0]})`,
      lost.length && `${lost.length} acknowledged uploads are missing or not completed`,
      code !== 0 && `the server exited with ${code} on SIGTERM`,
      doctor.status !== 0 && `npm run doctor: ${doctor.stdout}${doctor.stderr}`,
      report.all.non_2xx && `${report.all.non_2xx} answers were not 2xx`,
    ].filter(Boolean);
    for (const p of problems) console.error(`load: FAIL: ${p}`);
    if (problems.length) exitCode = 1;
    else
      console.log(
        `load: ok: ${samples.length} requests, 0 5xx, 0 lost; p50 ${report.all.p50_ms} ms, p99 ${report.all.p99_ms} ms`,
      );
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`load: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
