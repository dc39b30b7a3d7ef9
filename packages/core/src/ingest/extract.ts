import { ApiError } from '../errors.ts';
import type { PageStart } from './chunk.ts';

/** Extracted text; for PDFs, where each 1-based page starts in it. */
export type Extracted = { text: string; pages: PageStart[] | null };

type Kind = 'text' | 'html' | 'pdf' | 'docx';

// Read as UTF-8 text: prose, data and markup formats, then source code.
const TEXT_EXTENSIONS = [
  ...['txt', 'text', 'md', 'markdown', 'mdx', 'rst', 'adoc', 'asciidoc', 'org', 'tex', 'bib', 'log'],
  ...['json', 'jsonl', 'ndjson', 'csv', 'tsv', 'xml', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf'],
  ...['properties', 'srt', 'vtt', 'diff', 'patch'],
  ...['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'vue', 'svelte', 'py', 'pyi', 'ipynb'],
  ...['java', 'kt', 'kts', 'scala', 'groovy', 'gradle', 'clj', 'go', 'rs', 'rb', 'php', 'pl', 'lua'],
  ...['c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'hh', 'cs', 'fs', 'vb', 'swift', 'm', 'mm', 'dart', 'zig'],
  ...['r', 'jl', 'ex', 'exs', 'erl', 'hs', 'ml', 'nim', 'sh', 'bash', 'zsh', 'fish', 'ps1', 'bat'],
  ...['sql', 'graphql', 'gql', 'proto', 'tf', 'hcl', 'css', 'scss', 'sass', 'less', 'cmake'],
];

const KIND_BY_EXTENSION = new Map<string, Kind>([
  ['pdf', 'pdf'],
  ['docx', 'docx'],
  ['html', 'html'],
  ['htm', 'html'],
  ['xhtml', 'html'],
  ...TEXT_EXTENSIONS.map((ext): [string, Kind] => [ext, 'text']),
]);

/** Every extension extractText reads, with its dot: documents, then data formats, then source code. */
export const SUPPORTED_EXTENSIONS: readonly string[] = [...KIND_BY_EXTENSION.keys()].map((e) => `.${e}`);

const TEXT_MIME_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/javascript',
  'application/typescript',
  'application/sql',
  'application/x-sh',
  'application/x-tex',
  'application/x-ndjson',
]);

function kindOfMime(mimeType: string | null | undefined): Kind | null {
  const mime = mimeType?.split(';')[0]?.trim().toLowerCase();
  if (!mime) return null;
  if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  if (mime === 'application/pdf') return 'pdf';
  if (mime === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document') return 'docx';
  if (mime === 'text/rtf') return null;
  if (mime.startsWith('text/') || TEXT_MIME_TYPES.has(mime) || /\+(json|xml|yaml)$/.test(mime)) return 'text';
  return null;
}

function extensionOf(filename: string): string | null {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : null;
}

function kindOf(filename: string, mimeType?: string | null): Kind | null {
  const ext = extensionOf(filename);
  return (ext && KIND_BY_EXTENSION.get(ext)) || kindOfMime(mimeType);
}

/** True when extractText can read a file of this name (by extension) or else of this mime type. */
export function isSupportedFile(filename: string, mimeType?: string | null): boolean {
  return kindOf(filename, mimeType) !== null;
}

/** Extracts plain text from a file's bytes; throws ApiError unsupported_file or invalid_file. */
export async function extractText(
  bytes: Uint8Array,
  filename: string,
  mimeType?: string | null,
): Promise<Extracted> {
  const kind = kindOf(filename, mimeType);
  if (!kind) {
    const ext = extensionOf(filename);
    const what = ext
      ? `'.${ext}' files`
      : `files without an extension${mimeType ? ` (type ${mimeType})` : ''}`;
    throw new ApiError(
      'unsupported_file',
      `Cannot extract text from '${filename}': ${what} are not supported. Supported extensions: ${SUPPORTED_EXTENSIONS.join(', ')}.`,
    );
  }
  const extracted =
    kind === 'pdf'
      ? await pdfText(bytes, filename)
      : {
          text: kind === 'docx' ? await docxText(bytes, filename) : await markupText(bytes, filename, kind),
          pages: null,
        };
  if (!/\S/.test(extracted.text)) {
    const hint = kind === 'pdf' ? ' (scanned pages without a text layer are not read)' : '';
    throw new ApiError('invalid_file', `'${filename}' contains no extractable text${hint}.`);
  }
  return extracted;
}

async function markupText(bytes: Uint8Array, filename: string, kind: 'text' | 'html'): Promise<string> {
  const text = decode(bytes, filename);
  if (text.includes('\u0000')) {
    throw new ApiError(
      'invalid_file',
      `'${filename}' contains NUL bytes: it looks like a binary file, not text.`,
    );
  }
  return kind === 'html' ? htmlToText(text, filename) : text;
}

/** Strict UTF-8 (or UTF-16 when a byte order mark says so); a BOM is dropped. */
function decode(bytes: Uint8Array, filename: string): string {
  const encoding =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? 'utf-16le'
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? 'utf-16be'
        : 'utf-8';
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch (error) {
    throw invalid(
      `'${filename}' is not valid ${encoding.toUpperCase()} text; save it as UTF-8 and upload it again.`,
      error,
    );
  }
}

async function htmlToText(html: string, filename: string): Promise<string> {
  const { convert } = await import('html-to-text');
  try {
    return convert(html, {
      wordwrap: false,
      limits: { maxInputLength: html.length },
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
        ...['script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe'].map((selector) => ({
          selector,
          format: 'skip',
        })),
        ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
          selector,
          options: { uppercase: false },
        })),
        {
          selector: 'table',
          format: 'dataTable',
          options: { uppercaseHeaderCells: false, maxColumnWidth: 200, colSpacing: 2 },
        },
      ],
    });
  } catch (error) {
    throw invalid(`'${filename}' could not be read as HTML.`, error);
  }
}

async function pdfText(bytes: Uint8Array, filename: string): Promise<Extracted> {
  const { extractText: pdfPages, getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  let pageTexts: string[];
  try {
    // pdf.js takes ownership of (and may detach) the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
    pageTexts = (await pdfPages(pdf, { mergePages: false })).text;
  } catch (error) {
    const why =
      error instanceof Error && error.name === 'PasswordException'
        ? 'it is password-protected'
        : 'it is not a valid PDF or is damaged';
    throw invalid(`'${filename}' could not be read: ${why}.`, error);
  } finally {
    await pdf?.loadingTask.destroy().catch(() => {});
  }
  // Pages are joined by a blank line, which is where the chunker prefers to cut.
  let text = '';
  const pages: PageStart[] = [];
  pageTexts.forEach((raw, i) => {
    const body = clean(raw).trim();
    if (body && text) text += '\n\n';
    pages.push({ page: i + 1, start: text.length });
    text += body;
  });
  return { text, pages };
}

async function docxText(bytes: Uint8Array, filename: string): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return clean((await mammoth.extractRawText({ buffer })).value).trim();
  } catch (error) {
    throw invalid(
      `'${filename}' could not be read: it is not a valid .docx (Word 2007+) document or is damaged.`,
      error,
    );
  }
}

/** Text from a parser, made safe to store: no NUL (Postgres text rejects it), no lone surrogates. */
function clean(text: string): string {
  return text.replaceAll('\u0000', '').toWellFormed();
}

function invalid(message: string, cause: unknown): ApiError {
  const error = new ApiError('invalid_file', message);
  error.cause = cause;
  return error;
}
