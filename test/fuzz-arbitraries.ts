import fc from 'fast-check';

/** Strings that have broken services: injection syntax for SQL, jsonpath and tsquery, NUL, lone surrogates. */
export const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\uffff',
  '\u202e',
  "'",
  '"',
  '\\',
  "'; DROP TABLE chunks; --",
  "' OR '1'='1",
  '1; SELECT pg_sleep(10)',
  '$1',
  '%',
  '_',
  '%00',
  '$.a[*] ? (@ == 1)',
  'strict $.**',
  '$ ? (@ like_regex "(a+)+$")',
  'a & b | !c',
  'a <-> b:*',
  '!!(()',
  "'' & '",
  ':*',
  '__proto__',
  'constructor',
  'toString',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: template-injection text, on purpose
  '${7*7}',
  '{{x}}',
  '../../etc/passwd',
  'vs_',
  'file-',
  '😀'.repeat(3),
  'é'.normalize('NFD'),
  'a'.repeat(70),
  'b'.repeat(600),
  'c'.repeat(5000),
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n));
const control = fc.integer({ min: 0, max: 0x1f }).map((n) => String.fromCharCode(n));

/** Any string a JSON body can carry, biased towards the nasty ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(fc.string({ maxLength: 3 }), loneSurrogate, control, fc.constantFrom(...NASTY)), {
        maxLength: 6,
      })
      .map((parts) => parts.join('')),
  },
);

/** A short key: metadata and attribute keys, filter keys. */
export const nastyKey = fc.oneof(nastyString, fc.string({ minLength: 1, maxLength: 8 }));

export const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, -1e308, 5e-324, 0.5, 4096, 4097),
);

/** Any JSON value, nested a little, with nasty strings and keys. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    weirdNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Sometimes a well-formed value, sometimes anything: keeps the fuzz reaching past the first check. */
export const maybe = <T>(good: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: jsonValue }), {
    nil: undefined,
  });

const scalar = fc.oneof(nastyString, weirdNumber, fc.boolean());

export const attributes = fc.oneof(
  fc.dictionary(nastyKey, scalar, { maxKeys: 5 }),
  fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 20 }),
);

export const chunkingStrategy = fc.oneof(
  fc.constant({ type: 'auto' }),
  fc.record({
    type: fc.constantFrom('static', 'auto', 'other'),
    static: fc.record({
      max_chunk_size_tokens: weirdNumber,
      chunk_overlap_tokens: weirdNumber,
    }),
  }),
  jsonValue,
);

/** OpenAI's filter grammar with nasty keys, values and shapes. */
export const filter: fc.Arbitrary<unknown> = fc.letrec<{ f: unknown }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    fc.record({
      type: fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'like', ''),
      key: nastyKey,
      value: fc.oneof(scalar, fc.array(fc.oneof(nastyString, weirdNumber), { maxLength: 4 }), jsonValue),
    }),
    fc.record({
      type: fc.constantFrom('and', 'or', 'not'),
      filters: fc.array(tie('f'), { maxLength: 3 }),
    }),
    jsonValue,
  ),
})).f;

/** A path segment as raw text: percent-encoded bytes (invalid UTF-8 and %00 included) or odd characters. */
export const pathSegment = fc.oneof(
  fc.constantFrom(
    'vs_x',
    'file-x',
    '%00',
    '%ff',
    '%c0%80',
    '%e0%a4%a',
    '%',
    '%zz',
    '..',
    '.',
    'a%2fb',
    '%2e%2e',
    '%ed%a0%80',
  ),
  fc
    .uint8Array({ minLength: 1, maxLength: 12 })
    .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  nastyString.map((s) => encodeURIComponent(s.toWellFormed()) || 'x'),
);

export const queryString = fc.oneof(
  fc
    .dictionary(
      fc.oneof(fc.constantFrom('limit', 'order', 'after', 'before', 'filter', 'purpose'), nastyKey),
      fc.oneof(
        nastyString,
        weirdNumber.map(String),
        fc.constantFrom('asc', 'desc', '0', '101', '-1', 'completed'),
      ),
      { maxKeys: 4 },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`)
        .join('&'),
    ),
  fc.constantFrom(
    'limit=%00',
    'after=%ff%fe',
    'limit',
    '=&=&',
    'limit=1&limit=2',
    'order=%',
    'a=%zz',
    'limit=1e400',
  ),
);

export const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  ';;;',
  'application/json; boundary=x; charset=latin1',
];

export interface MultipartPart {
  name: string;
  /** Raw bytes of the filename parameter (may hold NUL or invalid UTF-8); absent: a text field. */
  filename?: Uint8Array;
  /** RFC 5987 filename* value, as sent. */
  filenameStar?: string;
  contentType?: string;
  body: Uint8Array;
}

export interface MultipartCase {
  parts: MultipartPart[];
  boundary: string;
  /** The boundary the Content-Type header announces (may differ from the body's, or be absent). */
  header: string | undefined;
  /** Cut the body after this fraction (1 = whole). */
  cut: number;
  closing: boolean;
  newline: '\r\n' | '\n';
  preamble: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

const partName = fc.oneof(
  fc.constantFrom(
    'file',
    'file',
    'purpose',
    'text',
    'filename',
    'attributes',
    'chunking_strategy',
    'data',
    'expires_after[anchor]',
    'expires_after[seconds]',
  ),
  nastyString.map((s) => s.replace(/["\r\n]/g, '')),
);

const filenameBytes = fc.oneof(
  fc
    .constantFrom(
      'a.txt',
      'notes.md',
      'a.pdf',
      'a.docx',
      'a.json',
      'a.html',
      'x.png',
      '',
      '.txt',
      `${'a'.repeat(600)}.txt`,
    )
    .map(utf8),
  nastyString.map((s) => utf8(`${s.replace(/["\r\n]/g, '')}.txt`)),
  fc
    .uint8Array({ maxLength: 12 })
    .map(
      (b) =>
        new Uint8Array([...b.filter((x) => x !== 0x22 && x !== 0x0a && x !== 0x0d), 0x2e, 0x74, 0x78, 0x74]),
    ),
);

const partBody = fc.oneof(
  fc
    .constantFrom(
      'assistants',
      'batch',
      'user_data',
      'the quick brown fox jumps over the lazy dog',
      '{"k":"v","n":1}',
      '{"k":"\\u0000"}',
      '{"__proto__":{"x":1}}',
      '{"type":"static","static":{"max_chunk_size_tokens":100,"chunk_overlap_tokens":10}}',
      '%PDF-1.4\n1 0 obj\n<<>>\nendobj\n',
      'PK\u0003\u0004garbage',
      '<html><body><script>alert(1)</script>hi</body></html>',
      'created_at',
      '3600',
      '',
    )
    .map(utf8),
  nastyString.map(utf8),
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(new Uint8Array(70 * 1024).fill(0x61)),
);

/** A well-formed form whose values are hostile: gets past the parser to the handlers. */
const wellFormedMultipart: fc.Arbitrary<MultipartCase> = fc
  .record({
    filename: filenameBytes,
    body: partBody,
    fields: fc.array(
      fc.record({
        name: fc.constantFrom('purpose', 'purpose', 'text', 'filename', 'attributes', 'chunking_strategy'),
        body: partBody,
      }),
      { maxLength: 3 },
    ),
    withFile: fc.boolean(),
    fileField: fc.constantFrom('file', 'file', 'data'),
  })
  .map(({ filename, body, fields, withFile, fileField }) => ({
    parts: [...(withFile ? [{ name: fileField, filename, contentType: 'text/plain', body }] : []), ...fields],
    boundary: 'b0undary',
    header: 'b0undary',
    cut: 1,
    closing: true,
    newline: '\r\n' as const,
    preamble: '',
  }));

const anyMultipart: fc.Arbitrary<MultipartCase> = fc.record({
  parts: fc.array(
    fc.record(
      {
        name: partName,
        filename: filenameBytes,
        filenameStar: fc.constantFrom(
          "UTF-8''a%00b.txt",
          "UTF-8''%ff%fe.txt",
          "UTF-8''ok.txt",
          "x''",
          "UTF-8''%zz",
        ),
        contentType: fc.constantFrom(
          'text/plain',
          'application/pdf',
          'application/octet-stream',
          '',
          'text/plain; charset=latin1',
          '\u0000',
        ),
        body: partBody,
      },
      { requiredKeys: ['name', 'body'] },
    ),
    { maxLength: 4 },
  ),
  boundary: fc.constantFrom(
    'b0undary',
    'x',
    '----WebKitFormBoundary7MA4YWxkTrZu0gW',
    'a'.repeat(70),
    '"quoted"',
  ),
  header: fc.option(
    fc.constantFrom('b0undary', 'x', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a'.repeat(70), 'other', ''),
    {
      nil: undefined,
    },
  ),
  cut: fc.oneof(
    { weight: 4, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  ),
  closing: fc.oneof(
    { weight: 4, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  newline: fc.constantFrom('\r\n' as const, '\r\n' as const, '\n' as const),
  preamble: fc.constantFrom('', '', 'garbage before\r\n'),
});

export const multipartCase = fc.oneof(wellFormedMultipart, anyMultipart);

/** The body bytes and Content-Type header of a multipart case (coherent or deliberately broken). */
export function buildMultipart(c: MultipartCase): { body: Buffer; contentType: string } {
  const nl = c.newline;
  const chunks: Uint8Array[] = [utf8(c.preamble)];
  for (const p of c.parts) {
    const head: Uint8Array[] = [utf8(`--${c.boundary}${nl}Content-Disposition: form-data; name="${p.name}"`)];
    if (p.filename) head.push(utf8('; filename="'), p.filename, utf8('"'));
    if (p.filenameStar) head.push(utf8(`; filename*=${p.filenameStar}`));
    head.push(utf8(nl));
    if (p.contentType !== undefined) head.push(utf8(`Content-Type: ${p.contentType}${nl}`));
    chunks.push(...head, utf8(nl), p.body, utf8(nl));
  }
  if (c.closing) chunks.push(utf8(`--${c.boundary}--${nl}`));
  const whole = Buffer.concat(chunks);
  const body = whole.subarray(0, Math.floor(whole.length * c.cut));
  const contentType =
    c.header === undefined ? 'multipart/form-data' : `multipart/form-data; boundary=${c.header}`;
  return { body, contentType };
}
