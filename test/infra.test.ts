// biome-ignore-all lint/suspicious/noExplicitAny: recording stand-ins take and hand back whatever infra passes.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { LINKS } from '../packages/functions/src/lambda/links.ts';
import { DATABASE_WAIT_MS, MIGRATE_RESERVE_MS } from '../packages/functions/src/lambda/wait.ts';
import { buildHandlers, HANDLERS } from '../scripts/build.ts';
import { tempDir } from './server.ts';

// sst.config.ts and infra/ evaluated as SST would, against stand-ins for SST's globals that record every
// component, its arguments and options, and the calls made on it (subscribe, route). Their types are
// checked against SST's real platform by `npm run check:infra`, not here: the imports below are dynamic
// so this project's tsc (which has no SST globals) does not follow them.
const CONFIG = '../sst.config.ts';
const MIGRATIONS = '../infra/migrations.ts';

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
  g.$output = (v: unknown) => out(v);
  const Secret = component('sst:Secret');
  g.sst = {
    Secret: class extends Secret {
      constructor(name: string, placeholder?: string) {
        super(name, { placeholder });
      }
    },
    aws: Object.fromEntries(
      ['Vpc', 'Postgres', 'Bucket', 'Queue', 'Function', 'ApiGatewayV2', 'CronV2'].map((t) => [
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
  const config = (await import(CONFIG)).default;
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
    expect(worker.args.permissions).toEqual([
      expect.objectContaining({
        actions: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
        resources: [expect.objectContaining({ value: '{IngestQueue.arn}' })],
      }),
    ]);
  });

  it("bounds the worker by the event source mapping's maximum concurrency, not reserved concurrency, with a visibility timeout of 6x its timeout", () => {
    for (const [e, bound] of [
      [dev, 5],
      [prod, 20],
    ] as const) {
      const worker = e.one('sst:aws:Function', 'Worker');
      // Reserved concurrency throttles the function, not the mapping's pollers: batches come back as receives.
      expect(worker.args.concurrency).toBeUndefined();
      const queue = e.one('sst:aws:Queue', 'IngestQueue');
      expect(seconds(queue.args.visibilityTimeout)).toBeGreaterThanOrEqual(6 * seconds(worker.args.timeout));
      const mapping = queue.calls[0]!.args[1].transform.eventSourceMapping;
      // Lambda accepts 2 to 1000; each container holds DATABASE_POOL_MAX connections.
      expect(mapping).toEqual({ scalingConfig: { maximumConcurrency: bound } });
      expect(bound * Number(worker.args.environment.DATABASE_POOL_MAX)).toBeLessThanOrEqual(100);
    }
    for (const fn of [...dev.all('sst:aws:Function'), ...prod.all('sst:aws:Function')])
      expect(fn.args.concurrency?.reserved).toBeUndefined();
  });

  it("turns API Gateway's CORS off so the app's CORS_ORIGINS allow-list answers preflights", async () => {
    expect(dev.one('sst:aws:ApiGatewayV2', 'HttpApi').args.cors).toBe(false);
    expect(dev.one('sst:aws:Function', 'Api').args.environment.CORS_ORIGINS).toBe('');
    vi.stubEnv('CORS_ORIGINS', 'https://app.example.com');
    try {
      const e = await evaluate('dev');
      expect(e.one('sst:aws:Function', 'Api').args.environment.CORS_ORIGINS).toBe('https://app.example.com');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('closes the NAT instance to the internet and opens SSH (the tunnel) only to SSH_ALLOW_CIDR', async () => {
    // What SST 4.17 itself writes: everything from anywhere on the NAT instance, SSH from anywhere on the bastion.
    const sstNat = () => ({
      ingress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
      egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
    });
    const sstBastion = () => ({
      ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['0.0.0.0/0'] }],
      egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
    });
    const groups = (e: typeof dev) => {
      const { transform } = e.one('sst:aws:Vpc', 'Vpc').args;
      const nat: any = sstNat();
      const bastion: any = sstBastion();
      transform.natSecurityGroup(nat, {}, 'VpcNatInstanceSecurityGroup');
      transform.bastionSecurityGroup(bastion, {}, 'VpcBastionSecurityGroup');
      return { nat, bastion };
    };
    const closed = groups(dev);
    expect(closed.nat.ingress).toEqual([
      { protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['10.0.0.0/16'] },
    ]);
    expect(closed.nat.egress).toEqual(sstNat().egress);
    expect(closed.bastion.ingress).toEqual([]);
    expect(dev.one('sst:aws:Vpc', 'Vpc').args).toMatchObject({ nat: 'ec2', bastion: true });
    expect(prod.one('sst:aws:Vpc', 'Vpc').args).toMatchObject({ nat: 'managed', bastion: true });

    vi.stubEnv('SSH_ALLOW_CIDR', '203.0.113.7/32');
    try {
      const open = groups(await evaluate('dev'));
      const ssh = { protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['203.0.113.7/32'] };
      expect(open.nat.ingress).toEqual([closed.nat.ingress[0], ssh]);
      expect(open.bastion.ingress).toEqual([ssh]);
      for (const bad of ['0.0.0.0/0', 'anywhere', '10.0.0.300/32']) {
        vi.stubEnv('SSH_ALLOW_CIDR', bad);
        await expect(evaluate('dev')).rejects.toThrow(/SSH_ALLOW_CIDR/);
      }
    } finally {
      vi.unstubAllEnvs();
      await evaluate('dev'); // leaves the module registry as the other tests found it
    }
  });

  it('runs migrations on deploy when they change (before the api and worker), daily, and maintenance every 5 minutes', async () => {
    const { migrationsHash } = await import(MIGRATIONS);
    const invoke = dev.one('aws:lambda:Invocation', 'MigrateOnDeploy');
    expect(String(invoke.args.functionName)).toBe('{Migrator.name}');
    expect(JSON.parse(invoke.args.input)).toEqual({ command: 'up' });
    expect(invoke.args.triggers.migrations).toBe(migrationsHash());
    expect(invoke.opts?.dependsOn.map(nameOf)).toEqual(['Database']);
    // The wait for a late proxy target and the migrations fit the function's timeout, and it the invoke's.
    const migrator = dev.one('sst:aws:Function', 'Migrator');
    expect(seconds(migrator.args.timeout) * 1000).toBeGreaterThanOrEqual(
      DATABASE_WAIT_MS + MIGRATE_RESERVE_MS,
    );
    for (const t of [invoke.opts?.customTimeouts.create, invoke.opts?.customTimeouts.update])
      expect(Number.parseInt(t, 10) * 60).toBeGreaterThan(seconds(migrator.args.timeout));
    for (const name of ['Api', 'Worker', 'Maintenance']) {
      expect(dev.one('sst:aws:Function', name).opts?.dependsOn.map(nameOf)).toEqual(['MigrateOnDeploy']);
    }
    // The trigger follows the SQL: a changed or added migration changes it.
    const copy = tempDir('vsdb-migrations-');
    cpSync('migrations', copy, { recursive: true });
    expect(migrationsHash(copy)).toBe(migrationsHash());
    writeFileSync(join(copy, '9999_next.up.sql'), 'SELECT 1;');
    expect(migrationsHash(copy)).not.toBe(migrationsHash());

    const crons = Object.fromEntries(dev.all('sst:aws:CronV2').map((c) => [c.name, c.args]));
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

describe('the files every deploy writes', () => {
  it('leaves the sst-env.d.ts files SST writes beside each package.json out of npm run check', async () => {
    // As SST 4.17 writes them (pkg/types/typescript): double quotes, no semicolons, lint ignored but not format.
    const header =
      '/* This file is auto-generated by SST. Do not edit. */\n/* biome-ignore-all lint: auto-generated */\n';
    const files = ['sst-env.d.ts', 'packages/core/sst-env.d.ts', 'packages/functions/sst-env.d.ts'];
    const run = promisify(execFile);
    try {
      writeFileSync(
        files[0]!,
        `${header}declare module "sst" {\n  export interface Resource {\n    "Files": {\n      "name": string\n      "type": "sst.aws.Bucket"\n    }\n  }\n}\nimport "sst"\nexport {}\n`,
      );
      for (const f of files.slice(1))
        writeFileSync(f, `${header}/// <reference path="../../sst-env.d.ts" />\n\nimport "sst"\nexport {}\n`);
      const biome = await run('node_modules/.bin/biome', ['check', '--no-errors-on-unmatched', ...files]);
      expect(biome.stderr + biome.stdout).toMatch(/Checked 0 files/);
      const { stdout } = await run('node_modules/.bin/tsc', ['-p', 'tsconfig.json', '--showConfig']);
      expect((JSON.parse(stdout).files as string[]).filter((f) => f.endsWith('sst-env.d.ts'))).toEqual([]);
    } finally {
      for (const f of files) rmSync(f, { force: true });
    }
  });
});
