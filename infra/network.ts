import { production, sshCidrs } from './stage.ts';

/** SST's VPC address range: the NAT instance forwards what comes from inside it. */
export const VPC_CIDR = '10.0.0.0/16';

interface Rule {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrBlocks: string[];
}
const ssh = (cidrs: string[]): Rule[] =>
  cidrs.length ? [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: cidrs }] : [];

/**
 * Private subnets for the database, its proxy and the functions; NAT gives the functions their way out (to
 * OpenAI, S3, SQS). A managed NAT gateway in production, a small NAT instance elsewhere, which doubles as the
 * bastion `sst tunnel` uses (production gets its own bastion instance).
 *
 * SST opens the NAT instance to all traffic from anywhere and the bastion's SSH port to 0.0.0.0/0. Here the
 * NAT instance takes traffic only from inside the VPC, and SSH (both) only from SSH_ALLOW_CIDR: unset, no
 * address on the internet reaches either (docs/DEPLOYMENT.md, "Connecting to the database").
 */
const allowed = sshCidrs();
export const vpc = new sst.aws.Vpc('Vpc', {
  az: production ? 3 : 2,
  nat: production ? 'managed' : 'ec2',
  bastion: true,
  transform: {
    natSecurityGroup: (args) => {
      args.ingress = [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: [VPC_CIDR] }, ...ssh(sshCidrs())];
    },
    bastionSecurityGroup: (args) => {
      args.ingress = ssh(allowed);
    },
  },
});
