import { production } from './stage.ts';

/**
 * Private subnets for the database, its proxy and the functions; NAT gives the functions their way out (to
 * OpenAI, S3, SQS). A managed NAT gateway in production, a small NAT instance elsewhere. The bastion lets
 * `sst tunnel` reach the database from a laptop (psql, `npm run migrate`).
 */
export const vpc = new sst.aws.Vpc('Vpc', {
  az: production ? 3 : 2,
  nat: production ? 'managed' : 'ec2',
  bastion: true,
});
