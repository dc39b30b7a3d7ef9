import { api } from './api.ts';
import { maintenanceFunction, workerFunction } from './functions.ts';
import { migrator } from './migrations.ts';
import { deadLetters } from './queue.ts';

/** Every alarm notifies this topic; ALARM_EMAIL at deploy time subscribes an address (confirm the email AWS sends). */
export const alarmTopic = new aws.sns.Topic('Alarms', {});
const email = process.env.ALARM_EMAIL;
if (email)
  new aws.sns.TopicSubscription('AlarmEmail', { topic: alarmTopic.arn, protocol: 'email', endpoint: email });

const notify = {
  alarmActions: [alarmTopic.arn],
  okActions: [alarmTopic.arn],
  treatMissingData: 'notBreaching',
};

/** Any message in the dead-letter queue: a job SQS gave up on (a poisoned message, or a file that keeps failing). */
new aws.cloudwatch.MetricAlarm('DeadLetterDepth', {
  ...notify,
  alarmDescription: 'Ingest messages reached the dead-letter queue',
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  dimensions: { QueueName: deadLetters.nodes.queue.name },
  statistic: 'Maximum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
});

/** More than 5% of API requests answered 5xx, in 2 of 3 five-minute periods (with at least a few requests). */
new aws.cloudwatch.MetricAlarm('Api5xxRate', {
  ...notify,
  alarmDescription: 'API 5xx rate above 5%',
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 5,
  comparisonOperator: 'GreaterThanThreshold',
  metricQueries: [
    {
      id: 'rate',
      expression: 'IF(requests >= 10, 100 * errors / requests, 0)',
      label: '5xx %',
      returnData: true,
    },
    ...[
      ['errors', '5xx'],
      ['requests', 'Count'],
    ].map(([id, metricName]) => ({
      id,
      metric: {
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensions: { ApiId: api.nodes.api.id, Stage: '$default' },
        period: 300,
        stat: 'Sum',
      },
    })),
  ],
});

/** Invocations of the background functions that ended in an error (a failed maintenance step, a failed migration). */
for (const [name, fn] of [
  ['WorkerErrors', workerFunction],
  ['MaintenanceErrors', maintenanceFunction],
  ['MigratorErrors', migrator],
] as const) {
  new aws.cloudwatch.MetricAlarm(name, {
    ...notify,
    alarmDescription: `${name.replace('Errors', '')} function errors`,
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensions: { FunctionName: fn.name },
    statistic: 'Sum',
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
  });
}
