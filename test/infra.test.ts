// biome-ignore-all lint/suspicious/noExplicitAny: recording stand-ins take and hand back whatever infra passes.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { LINKS } from '../packages/functions/src/lambda/links.ts';
import { buildHandlers, HANDLERS } from '../scripts/build.ts';
import { tempDir } from './server.ts';

// sst.config.ts and infra/ evaluated as SST would, against stand-ins for SST's globals that record every
// component, its arguments and options, and the calls made on it (subscribe, route).

interface Rec {
  type: string;
  name: string;
  args: Record<string, any>;
  opts?: Record<string, any>;
  calls: { method: string; args: any[] }[];
}

/** A stand-in for a Pulumi Output: apply() runs at once; it prints as the value it stands for. */
class Out {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
  apply(fn: (v: unknown) => unknown) {
    return out(fn(this.value));
  }
  toString() {
    return String(this.value);
  }
  toJSON() {
    return this.value;
  }
}
const out = (v: unknown) => (v instanceof Out ? v : new Out(v));
const REC = Symbol('rec');

/** `{Name.prop.sub}` tokens for any property of a component, nested as deep as infra reaches. */
function token(path: string): any {
  return new Proxy(new Out(`{${path}}`), {
    get: (target, prop) =>
      prop in target || typeof prop === 'symbol' || prop === 'then'
        ? Reflect.get(target, prop)
        : token(`${path}.${prop}`),
  });
}

function install(stage: string): Rec[] {
  const recs: Rec[] = [];
  const component = (type: string) =>
    class {
      constructor(name: string, args: any = {}, opts?: any) {
        const rec: Rec = { type, name, args, opts, calls: [] };
        recs.push(rec);
        // biome-ignore lint/correctness/noConstructorReturn: a recording stand-in answers every property.
        return new Proxy(this, {
          get: (_t, prop) => {
            if (prop === REC) return rec;
            if (prop === 'subscribe' || prop === 'route') {
              return (...a: any[]) => {
                rec.calls.push({ method: prop, args: a });
                return token(`${name}.${prop}`);
              };
            }
            if (typeof prop === 'symbol' || prop === 'then') return undefined;
            return token(`${name}.${prop}`);
          },
        });
      }
    };
  const g = globalThis as any;
  g.$config = (c: unknown) => c;
  g.$app = { name: 'vectordb', stage, removal: stage === 'production' ? 'retain' : 'remove' };
  g.$dev = false;
  g.$interpolate = (s: TemplateStringsArray, ...v: unknown[]) =>
    out(String.raw({ raw: s }, ...v.map(String)));
  g.$jsonStringify = (v: unknown) => out(JSON.stringify(v));
  g.$resolve = (vals: unknown[]) => out(vals.map((v) => (v instanceof Out ? v.value : v)));
  const Secret = component('sst:Secret');
  g.sst = {
    Secret: class extends Secret {
      constructor(name: string, placeholder?: string) {
        super(name, { placeholder });
      }
    },
    aws: Object.fromEntries(
      ['Vpc', 'Postgres', 'Bucket', 'Queue', 'Function', 'ApiGatewayV2', 'Cron'].map((t) => [
        t,
        component(`sst:aws:${t}`),
      ]),
    ),
  };
  g.aws = {
    lambda: { Invocation: component('aws:lambda:Invocation') },
    cloudwatch: { MetricAlarm: component('aws:cloudwatch:MetricAlarm') },
    sns: { Topic: component('aws:sns:Topic'), TopicSubscription: component('aws:sns:TopicSubscription') },
  };
  return recs;
}

async function evaluate(stage: string) {
  vi.resetModules();
  const recs = install(stage);
  const config = (await import('../sst.config.ts')).default;
  const app = config.app({ stage });
  const outputs = await config.run();
  const all = (type: string) => recs.filter((r) => r.type === type);
  const one = (type: string, name: string) => {
    const found = recs.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };
  return { app, outputs, recs, all, one };
}

const nameOf = (x: any) => (x?.[REC] as Rec | undefined)?.name ?? String(x);
const seconds = (d: string) => {
  const [n, unit] = d.split(' ');
  return Number(n) * (unit!.startsWith('minute') ? 60 : unit!.startsWith('hour') ? 3600 : 1);
};

let dev: Awaited<ReturnType<typeof evaluate>>;
let prod: Awaited<ReturnType<typeof evaluate>>;

beforeAll(async () => {
  // Functions deploy what `npm run build` wrote into dist/: build it, as `npm run deploy` does.
  await buildHandlers();
  dev = await evaluate('dev');
  prod = await evaluate('production');
}, 180_000);

describe('sst.config.ts and infra/', () => {
  it('deploys one function per built handler; each handler file exists and exports `handler`', async () => {
    const fns = dev.all('sst:aws:Function');
    expect(fns.map((f) => f.name).sort()).toEqual(['Api', 'Maintenance', 'Migrator', 'Worker']);
    expect(fns.map((f) => f.args.bundle).sort()).toEqual(
      Object.keys(HANDLERS)
        .map((n) => `dist/${n}`)
        .sort(),
    );
    for (const fn of fns) {
      expect(fn.args).toMatchObject({
        handler: 'index.handler',
        runtime: 'nodejs24.x',
        architecture: 'arm64',
      });
      const file = resolve(fn.args.bundle, 'index.mjs');
      expect(existsSync(file)).toBe(true);
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler)`,
      ]);
      expect(stdout.trim()).toBe('function');
      expect(nameOf(fn.args.vpc)).toBe('Vpc');
      expect(fn.args.environment.DATABASE_PREPARE).toBe('false');
      expect(Number(fn.args.environment.DATABASE_POOL_MAX)).toBeLessThanOrEqual(3);
    }
  });

  it('links each function to exactly what it uses, under the names the handlers read', () => {
    const links = Object.fromEntries(
      dev.all('sst:aws:Function').map((f) => [f.name, f.args.link.map(nameOf).sort()]),
    );
    expect(links).toEqual({
      Api: ['ApiKeys', 'Database', 'Files', 'IngestQueue', 'OpenaiApiKey', 'OpenaiBaseUrl'],
      Worker: ['Database', 'Files', 'OpenaiApiKey', 'OpenaiBaseUrl'],
      Migrator: ['Database'],
      Maintenance: ['Database', 'Files', 'IngestQueue'],
    });
    const known = new Set<string>(Object.values(LINKS));
    for (const name of Object.values(links).flat()) expect(known.has(name)).toBe(true);
    // Secrets are sst.Secret components; only the base URL has a placeholder (it is optional).
    expect(
      dev
        .all('sst:Secret')
        .map((s) => [s.name, s.args.placeholder])
        .sort(),
    ).toEqual([
      ['ApiKeys', undefined],
      ['OpenaiApiKey', undefined],
      ['OpenaiBaseUrl', ''],
    ]);
  });

  it('subscribes the worker to the queue with partial batch responses, a dead-letter queue and room for its timeout', () => {
    const queue = dev.one('sst:aws:Queue', 'IngestQueue');
    expect(String(queue.args.dlq.queue)).toBe('{IngestDlq.arn}');
    expect(queue.args.dlq.retry).toBeGreaterThanOrEqual(3);
    const [sub] = queue.calls;
    expect(sub?.method).toBe('subscribe');
    expect(String(sub!.args[0])).toBe('{Worker.arn}');
    expect(sub!.args[1].batch).toMatchObject({ partialResponses: true });
    const worker = dev.one('sst:aws:Function', 'Worker');
    expect(seconds(queue.args.visibilityTimeout)).toBeGreaterThan(seconds(worker.args.timeout));
    expect(worker.args.permissions).toEqual([
      expect.objectContaining({
        actions: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
        resources: [expect.objectContaining({ value: '{IngestQueue.arn}' })],
      }),
    ]);
  });

  it('routes API Gateway to the api function', () => {
    const api = dev.one('sst:aws:ApiGatewayV2', 'HttpApi');
    expect(api.calls.map((c) => [c.method, c.args[0], String(c.args[1])])).toEqual([
      ['route', '$default', '{Api.arn}'],
    ]);
    expect(String(dev.outputs?.api)).toBe('{HttpApi.url}');
  });

  it('runs migrations on deploy when they change (before the api and worker), daily, and maintenance every 5 minutes', async () => {
    const { migrationsHash } = await import('../infra/migrations.ts');
    const invoke = dev.one('aws:lambda:Invocation', 'MigrateOnDeploy');
    expect(String(invoke.args.functionName)).toBe('{Migrator.name}');
    expect(JSON.parse(invoke.args.input)).toEqual({ command: 'up' });
    expect(invoke.args.triggers.migrations).toBe(migrationsHash());
    expect(invoke.opts?.dependsOn.map(nameOf)).toEqual(['Database']);
    for (const name of ['Api', 'Worker', 'Maintenance']) {
      expect(dev.one('sst:aws:Function', name).opts?.dependsOn.map(nameOf)).toEqual(['MigrateOnDeploy']);
    }
    // The trigger follows the SQL: a changed or added migration changes it.
    const copy = tempDir('vsdb-migrations-');
    cpSync('migrations', copy, { recursive: true });
    expect(migrationsHash(copy)).toBe(migrationsHash());
    writeFileSync(join(copy, '9999_next.up.sql'), 'SELECT 1;');
    expect(migrationsHash(copy)).not.toBe(migrationsHash());

    const crons = Object.fromEntries(dev.all('sst:aws:Cron').map((c) => [c.name, c.args]));
    expect(String(crons.MigrateSchedule?.function)).toBe('{Migrator.arn}');
    expect(crons.MigrateSchedule?.event).toEqual({ command: 'up' });
    expect(String(crons.MaintenanceSchedule?.function)).toBe('{Maintenance.arn}');
    expect(crons.MaintenanceSchedule?.schedule).toBe('rate(5 minutes)');
  });

  it('puts the database behind RDS Proxy with TLS forced', () => {
    const db = dev.one('sst:aws:Postgres', 'Database');
    expect(db.args).toMatchObject({ proxy: true, version: '17' });
    expect(nameOf(db.args.vpc)).toBe('Vpc');
    const group = {
      parameters: [
        { name: 'rds.force_ssl', value: '0' },
        { name: 'rds.logical_replication', value: '1' },
      ],
    };
    db.args.transform.parameterGroup(group, {}, 'DatabaseParameterGroup');
    expect(group.parameters.filter((p) => p.name === 'rds.force_ssl')).toEqual([
      { name: 'rds.force_ssl', value: '1' },
    ]);
    const proxy: Record<string, unknown> = {};
    db.args.transform.proxy(proxy, {}, 'DatabaseProxy');
    expect(proxy.requireTls).toBe(true);
  });

  it('is stage-aware: production retains and protects its data, other stages do not', () => {
    expect(prod.app).toMatchObject({ removal: 'retain', protect: true });
    expect(dev.app).toMatchObject({ removal: 'remove', protect: false });
    const instance = (e: typeof dev) => {
      const args: Record<string, unknown> = {};
      e.one('sst:aws:Postgres', 'Database').args.transform.instance(args, {}, 'DatabaseInstance');
      return args;
    };
    expect(instance(prod)).toMatchObject({ deletionProtection: true, skipFinalSnapshot: false });
    expect(instance(dev)).toMatchObject({ deletionProtection: false, skipFinalSnapshot: true });
    expect(prod.one('sst:aws:Postgres', 'Database').args.multiAz).toBe(true);
    expect(dev.one('sst:aws:Postgres', 'Database').args.multiAz).toBe(false);
  });

  it('alarms on dead letters, the API 5xx rate and background function errors, all to one topic', () => {
    const alarms = Object.fromEntries(dev.all('aws:cloudwatch:MetricAlarm').map((a) => [a.name, a.args]));
    expect(Object.keys(alarms).sort()).toEqual([
      'Api5xxRate',
      'DeadLetterDepth',
      'MaintenanceErrors',
      'MigratorErrors',
      'WorkerErrors',
    ]);
    expect(String(alarms.DeadLetterDepth!.dimensions.QueueName)).toBe('{IngestDlq.nodes.queue.name}');
    const apiMetric = alarms.Api5xxRate!.metricQueries.find((q: any) => q.id === 'errors').metric;
    expect({ ...apiMetric, dimensions: { ApiId: String(apiMetric.dimensions.ApiId) } }).toMatchObject({
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensions: { ApiId: '{HttpApi.nodes.api.id}' },
    });
    for (const alarm of Object.values(alarms))
      expect(alarm.alarmActions.map(String)).toEqual(['{Alarms.arn}']);
  });

  it('keeps upload parts swept and multipart uploads aborted by bucket lifecycle rules', () => {
    const bucket = dev.one('sst:aws:Bucket', 'Files');
    expect(bucket.args.lifecycle).toEqual([expect.objectContaining({ prefix: 'uploads/' })]);
    const lifecycle: Record<string, unknown> = { rules: [{ id: 'stale-upload-parts' }] };
    bucket.args.transform.lifecycle(lifecycle, {}, 'FilesLifecycle');
    expect((lifecycle.rules as Out).value).toEqual([
      { id: 'stale-upload-parts' },
      expect.objectContaining({ abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }),
    ]);
  });
});
