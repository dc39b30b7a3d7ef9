/**
 * Raw file bytes (BLOB_STORE=s3): `<project>/<file id>` for files, `uploads/<project>/<upload>/<part>` for
 * the parts of an upload in progress. Parts outlive their upload only if maintenance could not remove them:
 * the lifecycle rule sweeps them after two days, and aborts multipart uploads a crash left open.
 */
export const files = new sst.aws.Bucket('Files', {
  enforceHttps: true,
  lifecycle: [{ id: 'stale-upload-parts', prefix: 'uploads/', expiresIn: '2 days' }],
  transform: {
    // SST's lifecycle arguments have no abort rule: add it to the rules SST builds.
    lifecycle: (args) => {
      args.rules = $output(args.rules).apply((rules) => [
        ...(rules ?? []),
        {
          id: 'abort-incomplete-multipart',
          status: 'Enabled',
          filter: {},
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ]);
    },
  },
});
