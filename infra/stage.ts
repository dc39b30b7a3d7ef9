/** Production keeps its data when removed and runs bigger and redundant; every other stage is disposable. */
export const production = $app.stage === 'production';

/** Settings fixed for the whole deployment (the embedding dimension is fixed when the schema is created). */
export const settings = {
  embeddingModel: 'text-embedding-3-small',
  embeddingDimensions: '1536',
};

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * SSH_ALLOW_CIDR at deploy time (comma-separated IPv4 CIDRs, e.g. `203.0.113.7/32`): the addresses that may
 * reach the bastion's SSH port, which `sst tunnel` uses. Unset, nothing on the internet can reach it.
 */
export function sshCidrs(value = process.env.SSH_ALLOW_CIDR): string[] {
  const cidrs = (value ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  for (const cidr of cidrs) {
    const m = CIDR.exec(cidr);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32 || cidr.endsWith('/0'))
      throw new Error(
        `SSH_ALLOW_CIDR: "${cidr}" is not an IPv4 CIDR narrower than /0 (e.g. 203.0.113.7/32).`,
      );
  }
  return cidrs;
}
