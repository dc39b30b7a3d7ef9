import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const held = new Set<string>();

/** A pid file that keeps a second server off the same DATA_DIR; a lock left by a dead process is taken over. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (pid && (pid === process.pid ? held.has(path) : isAlive(pid))) {
        throw new Error(
          `DATA_DIR ${dir} is in use by another server (pid ${pid}). Stop it, or set DATA_DIR to another directory.`,
        );
      }
      unlinkSync(path); // stale: its owner is gone
    }
  }
  throw new Error(`Could not lock DATA_DIR ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
