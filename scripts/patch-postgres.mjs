// postinstall: makes postgres.js 3.4.x survive a connection that drops, as no release does yet, and sends
// an unnamed statement in one round trip.
//  1. A connection that closes while a small write waits for setImmediate throws an uncaught TypeError
//     from nextWrite (the process dies) or keeps a stale timer and never writes again: every later query
//     on it hangs (porsager/postgres#1208, #1154, #1066).
//  2. Queries sent between a socket's 'error' and its 'close' are never settled: their callers wait forever.
//  3. The array-type query a new connection runs first is awaited by nobody: when the connection dies
//     under it, the rejection is unhandled, and Node ends the process.
//  4. With `prepare: false` (what a transaction pooler needs), every statement with parameters took two
//     round trips: Parse/Describe, wait for the parameter types, then Bind/Execute. The types the server
//     gave are now kept per connection, by statement text; the next time, Parse names them (what the server
//     would infer again) and Bind/Execute follow in the same write: one round trip, still an unnamed
//     statement, so nothing outlives its Sync on the server. Any error on such a statement forgets its
//     types (a migration may have changed them), and a type mismatch is retried once with a Describe, as
//     postgres.js retries its prepared statements; Bind no longer overwrites the parameters with their text,
//     which made any retry (prepared statements' too) serialize them twice (7 became the JSON string "7").
//     Outside a transaction block such a statement still holds its connection until it completes, as
//     before (no pipelining across autocommit statements, which a pooler may hand to different server
//     connections); inside one, the next statement may follow it at once.
// test/faults-db.test.ts reproduces 1 and 2 by cutting the database connection under traffic;
// test/driver-patch.test.ts checks that this ran, and 4 on the embedded engine, native Postgres and
// PgBouncer. Plain JavaScript, idempotent, never fails an install: a driver it does not recognise is left
// as it is, with a warning.
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
  {
    mark: `${MARK} 4a`,
    find: '    , statements = {}\n',
    replace: `    , statements = {}\n    , described = new Map() // ${MARK} 4a: parameter types of unnamed statements, by types + text\n    , describedChars = 0\n    , inTransaction = false\n`,
  },
  {
    mark: `${MARK} 4b`,
    find: `    q.describeFirst = q.onlyDescribe || (parameters.length && !q.prepared)
    q.statement = q.prepared
      ? statements[q.signature]
      : { string, types, name: q.prepare ? statementId + statementCount++ : '' }
`,
    replace: `    // ${MARK} 4b: an unnamed statement whose parameter types the server gave before goes in one round trip
    q.typesKey = !q.prepare && !q.onlyDescribe && parameters.length ? types + string : null
    q.knownTypes = q.typesKey !== null ? recallTypes(q.typesKey) : null
    q.describeFirst = q.onlyDescribe || (parameters.length && !q.prepared && !q.knownTypes)
    q.statement = q.prepared
      ? statements[q.signature]
      : { string, types: q.knownTypes || types, name: q.prepare ? statementId + statementCount++ : '' }
`,
  },
  {
    mark: `${MARK} 4c`,
    find: '    query.prepare && (statements[query.signature] = query.statement)\n',
    replace: `    query.prepare && (statements[query.signature] = query.statement)\n    query.typesKey && !query.knownTypes && rememberTypes(query.typesKey, query.statement.types) // ${MARK} 4c\n`,
  },
  {
    mark: `${MARK} 4d`,
    find: '          : query.prepared && retryRoutines.has(errorResponse.routine)\n',
    replace: `          : (query.prepared || query.knownTypes) && retryRoutines.has(errorResponse.routine) // ${MARK} 4d\n`,
  },
  {
    mark: `${MARK} 4e`,
    find: '    if (query) {\n      (query.cursorFn || query.describeFirst) && write(Sync)\n',
    replace: `    if (query) {\n      query.knownTypes && forgetTypes(query.typesKey) // ${MARK} 4e: perhaps stale (a migration): describe it again\n      ;(query.cursorFn || query.describeFirst) && write(Sync)\n`,
  },
  {
    mark: `${MARK} 4f`,
    find: '  function ReadyForQuery(x) {\n',
    replace: `  function ReadyForQuery(x) {\n    inTransaction = x[5] === 84 // ${MARK} 4f: 'T', in a transaction block: a pooler keeps its server connection\n`,
  },
  {
    mark: `${MARK} 4g`,
    find: '        && !q.describeFirst\n',
    replace: `        && !q.describeFirst\n        && (!q.knownTypes || inTransaction) // ${MARK} 4g: as before outside a transaction block\n`,
  },
  {
    mark: `${MARK} 4i`,
    find: '      parameters[i] = x = type in options.serializers\n',
    replace: `      x = type in options.serializers // ${MARK} 4i: left as given, so a retry serializes them for its own types\n`,
  },
  {
    mark: `${MARK} 4h`,
    find: '  function retry(q, error) {\n',
    replace: `  // ${MARK} 4h: up to 1 MiB of statement text per connection, the least recently used dropped first
  function recallTypes(key) {
    const types = described.get(key)
    if (!types) return null
    described.delete(key)
    described.set(key, types)
    return types.slice()
  }

  function rememberTypes(key, types) {
    if (key.length > 65536 || described.has(key)) return
    described.set(key, types.slice())
    describedChars += key.length
    for (const k of described.keys()) {
      if (describedChars <= 1048576) break
      forgetTypes(k)
    }
  }

  function forgetTypes(key) {
    described.delete(key) && (describedChars -= key.length)
  }

  function retry(q, error) {\n`,
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
