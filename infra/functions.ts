import { baseEnvironment, bundle } from './bundles.ts';
import { database } from './database.ts';
import { migrateOnDeploy } from './migrations.ts';
import { vpc } from './network.ts';
import { ingestQueue, WORKER_TIMEOUT_MINUTES } from './queue.ts';
import { apiKeys, openaiApiKey, openaiBaseUrl } from './secrets.ts';
import { production, settings } from './stage.ts';
import { files } from './storage.ts';

const embedding = {
  EMBEDDING_PROVIDER: 'openai',
  EMBEDDING_MODEL: settings.embeddingModel,
  EMBEDDING_DIMENSIONS: settings.embeddingDimensions,
};

/**
 * The HTTP API. A container serves one request at a time, so two connections suffice. Small attachments are
 * ingested within the request, the rest queued on SQS (the link sets JOB_QUEUE=sqs and BLOB_STORE=s3).
 */
export const apiFunction = new sst.aws.Function(
  'Api',
  {
    ...bundle('api'),
    description: 'OpenAI-compatible vector store API (API Gateway HTTP API)',
    timeout: '30 seconds', // API Gateway gives up at 30 s anyway
    memory: '1024 MB',
    vpc,
    link: [database, files, ingestQueue, openaiApiKey, openaiBaseUrl, apiKeys],
    // Rate-limit counts must be shared by every container (RATE_LIMIT_PER_MINUTE is 0, off, unless set here).
    environment: {
      ...baseEnvironment,
      ...embedding,
      DATABASE_POOL_MAX: '2',
      RATE_LIMIT_STORE: 'postgres',
      // The browser origins allowed to call the API (the app answers preflights; API Gateway's CORS is off).
      CORS_ORIGINS: process.env.CORS_ORIGINS ?? '',
    },
    logging: { retention: production ? '3 months' : '1 week', format: 'json' },
  },
  { dependsOn: [migrateOnDeploy] },
);

/**
 * At most this many worker containers at once (the event source mapping's maximum concurrency), each
 * running INGEST_CONCURRENCY jobs: bounds the database connections and OpenAI requests ingestion opens.
 * Not reserved concurrency: that does not stop the mapping from polling, so throttled batches would come
 * back after the visibility timeout as receives and dead-letter jobs that never ran (and reserving fails
 * the deploy on an account at the default quota).
 */
export const WORKER_MAX_CONCURRENCY = production ? 20 : 5;

/** Ingests the jobs SQS names, INGEST_CONCURRENCY at a time; the queue's visibility timeout is 6x its timeout. */
export const workerFunction = new sst.aws.Function(
  'Worker',
  {
    ...bundle('worker'),
    description: 'Ingestion: extract, chunk, embed and store the files SQS names',
    timeout: `${WORKER_TIMEOUT_MINUTES} minutes`,
    memory: '2048 MB',
    vpc,
    link: [database, files, openaiApiKey, openaiBaseUrl],
    permissions: [
      {
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        resources: [ingestQueue.arn],
      },
    ],
    environment: {
      ...baseEnvironment,
      ...embedding,
      DATABASE_POOL_MAX: '3',
      INGEST_CONCURRENCY: '2',
      INGEST_LEASE_SECONDS: '60',
    },
    logging: { retention: production ? '3 months' : '1 week', format: 'json' },
  },
  { dependsOn: [migrateOnDeploy] },
);

ingestQueue.subscribe(workerFunction.arn, {
  batch: { size: 5, window: '2 seconds', partialResponses: true },
  transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: WORKER_MAX_CONCURRENCY } } },
});

/** The cron: expire files, uploads and expired stores' jobs, re-queue stale jobs, purge deleted blobs. */
export const maintenanceFunction = new sst.aws.Function(
  'Maintenance',
  {
    ...bundle('maintenance'),
    description: 'Maintenance: expiry, stale ingest leases, blob purging',
    timeout: '5 minutes',
    memory: '512 MB',
    vpc,
    link: [database, files, ingestQueue],
    environment: {
      ...baseEnvironment,
      DATABASE_POOL_MAX: '1',
      EMBEDDING_DIMENSIONS: settings.embeddingDimensions,
    },
    logging: { retention: '1 month', format: 'json' },
  },
  { dependsOn: [migrateOnDeploy] },
);

new sst.aws.CronV2('MaintenanceSchedule', { function: maintenanceFunction.arn, schedule: 'rate(5 minutes)' });
