import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const tempDir = (prefix = 'vsdb-') => mkdtempSync(join(tmpdir(), prefix));

const baseEnv = (env: Record<string, string>) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  PORT: '0',
  LOG_LEVEL: 'info',
  EMBEDDING_DIMENSIONS: '64',
  ...env,
});

/** Spawns `npm start`'s entry point as its own process; resolves once it listens, rejects if it exits first. */
export function startServer(env: Record<string, string>, cwd = tempDir()): Promise<RunningServer> {
  const proc = spawn(process.execPath, [join(import.meta.dirname, '../packages/functions/src/local.ts')], {
    env: baseEnv(env),
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+) /.exec(out);
      if (m) {
        resolve({
          url: m[1]!,
          proc,
          output: () => out,
          stop: (signal = 'SIGTERM') => {
            proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
}

/** Runs the entry point expecting it to refuse to start; resolves with its exit code and output. */
export function expectStartFailure(
  env: Record<string, string>,
  cwd = tempDir(),
): Promise<{ code: number | null; output: string }> {
  return startServer(env, cwd).then(
    async (s) => {
      await s.stop();
      throw new Error(`server started but should not have:\n${s.output()}`);
    },
    (err: Error) => {
      const m = /exited with (\S+) before listening:\n([\s\S]*)$/.exec(err.message);
      if (!m) throw err;
      return { code: m[1] === 'null' ? null : Number(m[1]), output: m[2]! };
    },
  );
}
