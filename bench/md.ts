// Markdown cells and tables for the generated block of docs/BENCHMARKS.md.

/** A figure as the docs show it: integers grouped, others to `digits` decimals, n/a when absent. */
export const num = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined
    ? 'n/a'
    : Number.isInteger(v)
      ? v.toLocaleString('en')
      : String(Number(v.toFixed(digits)));

export const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
