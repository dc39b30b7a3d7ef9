export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
type Fields = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(module: string): Logger;
}

/**
 * Readable lines locally (MAIA's format: `2026-02-13T10:30:45 INFO [module] msg [k=v]`), JSON when
 * `json` is set (CloudWatch). Values of keys that look secret are never written.
 */
export function createLogger(opts: {
  level: LogLevel;
  json?: boolean;
  module?: string;
  write?: (line: string) => void;
}): Logger {
  const min = ORDER[opts.level];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const module = opts.module ?? 'app';
  const log = (level: Exclude<LogLevel, 'silent'>, msg: string, fields: Fields = {}) => {
    if (ORDER[level] < min) return;
    const safe = redact(fields);
    if (opts.json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, module, msg, ...safe }));
      return;
    }
    const time = new Date().toISOString().slice(0, 19);
    const extra = Object.entries(safe)
      .map(([k, v]) => ` [${k}=${typeof v === 'string' ? v : JSON.stringify(v)}]`)
      .join('');
    write(`${time} ${level.toUpperCase()} [${module}] ${msg}${extra}`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (child) => createLogger({ ...opts, module: child, write }),
  };
}

const SECRET = /api_?key|secret|password|authorization|^token$/i;

function redact(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET.test(k) ? '[redacted]' : v instanceof Error ? (v.stack ?? v.message) : v;
  }
  return out;
}
