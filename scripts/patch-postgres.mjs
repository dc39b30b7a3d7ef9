// postinstall: makes postgres.js 3.4.x survive a connection that drops, as no release does yet.
//  1. A connection that closes while a small write waits for setImmediate throws an uncaught TypeError
//     from nextWrite (the process dies) or keeps a stale timer and never writes again: every later query
//     on it hangs (porsager/postgres#1208, #1154, #1066).
//  2. Queries sent between a socket's 'error' and its 'close' are never settled: their callers wait forever.
//  3. The array-type query a new connection runs first is awaited by nobody: when the connection dies
//     under it, the rejection is unhandled, and Node ends the process.
// test/faults-db.test.ts reproduces both by cutting the database connection under traffic, and
// test/driver-patch.test.ts checks that this ran. Plain JavaScript, idempotent, never fails an install:
// a driver it does not recognise is left as it is, with a warning.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MARK = 'vectordb patch';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');

const edits = [
  {
    mark: `${MARK} 1a`,
    find: 'function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    replace: `function nextWrite(fn) {\n    if (!socket) { // ${MARK} 1a: the socket closed first: drop the write, fail its queries\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
  },
  {
    mark: `${MARK} 1b`,
    find: '\n    clearImmediate(nextWriteTimer)\n',
    replace: `\n    clearImmediate(nextWriteTimer) // ${MARK} 1b: forget the timer and what it would have written\n    chunk = nextWriteTimer = null\n`,
    count: 2,
  },
  {
    mark: `${MARK} 2`,
    find: "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))",
    replace: `    // ${MARK} 2: also after an error: queries sent since it have not been failed yet\n    ;(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))`,
  },
  {
    mark: `${MARK} 3`,
    find: '        return fetchArrayTypes()\n',
    replace: `        return fetchArrayTypes().catch(() => {}) // ${MARK} 3: its connection's error path fails the queries\n`,
  },
];

for (const dir of ['src', 'cjs/src', 'cf/src']) {
  const path = join(root, dir, 'connection.js');
  if (!existsSync(path)) continue;
  let source = readFileSync(path, 'utf8');
  let changed = false;
  for (const e of edits) {
    if (source.includes(e.mark)) continue;
    const found = source.split(e.find).length - 1;
    if (found !== (e.count ?? 1)) {
      console.warn(
        `patch-postgres: ${dir}/connection.js is not the postgres.js 3.4.x it knows (${e.mark}); left as it is`,
      );
      changed = false;
      break;
    }
    source = source.replaceAll(e.find, e.replace);
    changed = true;
  }
  if (changed) {
    writeFileSync(path, source);
    console.log(`patch-postgres: guarded ${dir}/connection.js`);
  }
}
