/** The process's Node options, minus those a worker thread refuses (`node --input-type=module -e ...`). */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (['-e', '--eval', '-p', '--print'].includes(a)) i++;
    else if (!a.startsWith('--input-type') && !/^--(eval|print)=/.test(a)) out.push(a);
  }
  return out;
}
