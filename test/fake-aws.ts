import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Just enough of S3 (path-style objects and multipart uploads) and SQS (SendMessageBatch, JSON protocol)
 * on loopback for the real @aws-sdk clients to talk to, recording what they were sent.
 */
export interface FakeAws {
  url: string;
  queueUrl: string;
  objects: Map<string, Buffer>;
  /** Multipart uploads begun and not yet completed or aborted. */
  openUploads: Map<string, Map<number, Buffer>>;
  messages: { id: string; body: string }[];
  /** Resolves when the next message is sent (or `signal` aborts): a poller waits on it instead of the clock. */
  nextMessage(signal?: AbortSignal): Promise<void>;
  /** GETs that came with a presigned URL's query signature, and what they were answered. */
  presignedGets: { key: string; status: number }[];
  /** Make the next n SQS entries fail (SQS's partial batch failure). */
  failNextEntries(n: number): void;
  close(): Promise<void>;
}

const read = async (req: IncomingMessage) => {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
};

/** Strips aws-chunked framing (`size;chunk-signature=...\r\n data \r\n ... 0\r\n trailers`) if the body has it. */
function decodeBody(req: IncomingMessage, body: Buffer): Buffer {
  if (!String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return body;
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.subarray(at, eol).toString().split(';')[0]!, 16);
    if (!size) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

export async function startFakeAws(): Promise<FakeAws> {
  const objects = new Map<string, Buffer>();
  const openUploads = new Map<string, Map<number, Buffer>>();
  const messages: { id: string; body: string }[] = [];
  const arrivals: (() => void)[] = [];
  const presignedGets: { key: string; status: number }[] = [];
  let failing = 0;

  const s3 = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const key = decodeURIComponent(url.pathname.slice(1)); // "bucket/key..."
    const q = url.searchParams;
    const body = decodeBody(req, await read(req));
    const etag = () => `"${createHash('md5').update(body).digest('hex')}"`;
    const xml = (status: number, text: string) => {
      res
        .writeHead(status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>${text}`);
    };
    if (req.method === 'POST' && q.has('uploads')) {
      const id = randomUUID();
      openUploads.set(id, new Map());
      return xml(
        200,
        `<InitiateMultipartUploadResult><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === 'PUT' && q.has('uploadId')) {
      openUploads.get(q.get('uploadId')!)!.set(Number(q.get('partNumber')), body);
      return res.writeHead(200, { etag: etag() }).end();
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      const parts = openUploads.get(q.get('uploadId')!)!;
      const order = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
        Number(m[1]),
      );
      objects.set(key, Buffer.concat(order.map((n) => parts.get(n)!)));
      openUploads.delete(q.get('uploadId')!);
      return xml(
        200,
        `<CompleteMultipartUploadResult><Key>${key}</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'DELETE' && q.has('uploadId')) {
      openUploads.delete(q.get('uploadId')!);
      return res.writeHead(204).end();
    }
    if (req.method === 'PUT') {
      objects.set(key, body);
      return res.writeHead(200, { etag: etag() }).end();
    }
    if (req.method === 'GET' && q.has('X-Amz-Signature')) {
      // A presigned URL, as S3 checks it: one way of signing only, within its expiry; response-* set headers.
      const signedAt = Date.parse(
        (q.get('X-Amz-Date') ?? '').replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          '$1-$2-$3T$4:$5:$6Z',
        ),
      );
      const expires = Number(q.get('X-Amz-Expires'));
      const found = objects.get(key);
      const status = req.headers.authorization
        ? 400
        : !(expires > 0 && expires <= 604_800) || !(Date.now() <= signedAt + expires * 1000)
          ? 403
          : !q.get('X-Amz-Credential') || !q.get('X-Amz-SignedHeaders')
            ? 403
            : found
              ? 200
              : 404;
      presignedGets.push({ key, status });
      if (status !== 200 || !found) return xml(status, `<Error><Code>Refused${status}</Code></Error>`);
      return res
        .writeHead(200, {
          'content-length': found.length,
          'content-type': q.get('response-content-type') ?? 'application/octet-stream',
          ...(q.get('response-content-disposition')
            ? { 'content-disposition': q.get('response-content-disposition')! }
            : {}),
        })
        .end(found);
    }
    if (req.method === 'GET') {
      const found = objects.get(key);
      if (!found)
        return xml(
          404,
          '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
        );
      return res
        .writeHead(200, { 'content-length': found.length, 'content-type': 'application/octet-stream' })
        .end(found);
    }
    if (req.method === 'DELETE') {
      objects.delete(key);
      return res.writeHead(204).end();
    }
    res.writeHead(405).end();
  };

  const sqs = async (req: IncomingMessage, res: ServerResponse) => {
    const input = JSON.parse((await read(req)).toString()) as {
      Entries: { Id: string; MessageBody: string }[];
    };
    const Successful = [];
    const Failed = [];
    for (const e of input.Entries) {
      if (failing > 0) {
        failing--;
        Failed.push({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' });
        continue;
      }
      const MessageId = randomUUID();
      messages.push({ id: MessageId, body: e.MessageBody });
      for (const wake of arrivals.splice(0)) wake();
      Successful.push({
        Id: e.Id,
        MessageId,
        MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
      });
    }
    res
      .writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
      .end(JSON.stringify({ Successful, Failed }));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = String(req.headers['x-amz-target'] ?? '');
    const handle = target.startsWith('AmazonSQS.') ? sqs(req, res) : s3(req, res, url);
    handle.catch((err) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    queueUrl: `${url}/123456789012/ingest`,
    objects,
    openUploads,
    messages,
    nextMessage: (signal) =>
      new Promise<void>((resolve) => {
        arrivals.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
    presignedGets,
    failNextEntries: (n) => {
      failing = n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Environment for the AWS SDK inside tests: fixed credentials and region, nothing read from the machine. */
export const fakeAwsEnv = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};
