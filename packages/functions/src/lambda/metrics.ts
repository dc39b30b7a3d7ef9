import { metrics } from '@vsdb/core/metrics';
import { lambdaConfig } from './container.ts';

let namespace: string | undefined;

/**
 * Writes what this invocation recorded as CloudWatch Embedded Metric Format, one JSON object per line
 * straight to stdout (not console.log, which Lambda's JSON log format would wrap in a message field, where
 * CloudWatch no longer finds the metrics), then starts the counts afresh. Called at the end of every
 * invocation: a frozen container writes nothing, so metrics kept for later would be lost.
 */
export function flushMetrics(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
  try {
    namespace ??= lambdaConfig().METRICS_NAMESPACE;
  } catch {
    return; // no valid config: the invocation failed before it could record anything
  }
  for (const line of metrics.emf(namespace)) write(line);
}

/** Runs one invocation and flushes its metrics, whatever the outcome. */
export async function withMetrics<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    flushMetrics();
  }
}
