import { vpc } from './network.ts';
import { production } from './stage.ts';

/**
 * RDS Postgres 17 (pgvector ships with it; the first migration creates the extension), reached only through
 * RDS Proxy, which pools the connections of many Lambda containers and requires TLS.
 */
export const database = new sst.aws.Postgres('Database', {
  vpc,
  version: '17',
  instance: production ? 'm7g.large' : 't4g.micro',
  storage: production ? '100 GB' : '20 GB',
  multiAz: production,
  proxy: true,
  transform: {
    parameterGroup: (args) => {
      // SST turns rds.force_ssl off; connections must be encrypted. Log statements slower than a second.
      const parameters = (args.parameters as { name: string; value: string }[]).filter(
        (p) => p.name !== 'rds.force_ssl',
      );
      args.parameters = [
        ...parameters,
        { name: 'rds.force_ssl', value: '1' },
        { name: 'log_min_duration_statement', value: '1000' },
      ];
    },
    instance: (args) => {
      args.deletionProtection = production;
      args.skipFinalSnapshot = !production;
      if (production) args.finalSnapshotIdentifier = `${$app.name}-${$app.stage}-final`;
      args.backupRetentionPeriod = production ? 14 : 1;
    },
    proxy: (args) => {
      args.requireTls = true;
      args.idleClientTimeout = 1800;
    },
  },
});
