import pkg from '../../../package.json' with { type: 'json' };

/** The service version reported by /health. */
export const VERSION: string = pkg.version;
