// SST's entry: `npm run deploy -- --stage NAME` (build, then `sst deploy`). Each concern lives in infra/.

export default $config({
  app(input) {
    const production = input?.stage === 'production';
    return {
      name: 'vectordb',
      home: 'aws',
      // Production refuses `sst remove` (protect); once allowed, it keeps its database, bucket and VPC (retain).
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    const { api } = await import('./infra/api.ts');
    const { database } = await import('./infra/database.ts');
    const { files } = await import('./infra/storage.ts');
    const { ingestQueue, deadLetters } = await import('./infra/queue.ts');
    const { migrator } = await import('./infra/migrations.ts');
    await import('./infra/alarms.ts');
    return {
      api: api.url,
      database: database.host,
      bucket: files.name,
      queue: ingestQueue.url,
      deadLetters: deadLetters.url,
      migrator: migrator.name,
    };
  },
});
