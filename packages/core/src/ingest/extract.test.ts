import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { chunkText } from './chunk.ts';
import { extractText, isSupportedFile, SUPPORTED_EXTENSIONS } from './extract.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A PDF with one page per entry; '' makes a page without text. */
async function makePdf(pages: string[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = doc.addPage();
    if (text) page.drawText(text, { x: 50, y: 700, font, size: 12, lineHeight: 16 });
  }
  return doc.save();
}

async function makeDocx(): Promise<Uint8Array> {
  const cell = (text: string) => new TableCell({ children: [new Paragraph(text)] });
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Quarterly report', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('Revenue grew by 12% — déjà vu 😀.'),
          new Table({ rows: [new TableRow({ children: [cell('North'), cell('South')] })] }),
          new Paragraph('Closing remarks.'),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

const rejection = (code: 'invalid_file' | 'unsupported_file', message: RegExp) =>
  expect.objectContaining({ name: 'ApiError', code, message: expect.stringMatching(message) });

describe('extractText: plain text and source code', () => {
  it('reads UTF-8 text as is, dropping a byte order mark', async () => {
    const body = 'Héllo wörld 😀\r\n日本語\n';
    expect(await extractText(utf8(`\ufeff${body}`), 'notes.txt')).toEqual({ text: body, pages: null });
    expect((await extractText(utf8('# Title\n\nBody'), 'README.MD')).text).toBe('# Title\n\nBody');
    expect((await extractText(utf8('{"a": [1, 2]}'), 'data.json')).text).toBe('{"a": [1, 2]}');
    expect((await extractText(utf8('a,b\n1,2\n'), 'table.csv')).text).toBe('a,b\n1,2\n');
    expect((await extractText(utf8('export const x = 1;\n'), 'src/index.ts')).text).toBe(
      'export const x = 1;\n',
    );
    expect((await extractText(utf8('def f():\n    pass\n'), 'C:\\code\\main.PY')).text).toMatch(/^def f/);
  });

  it('reads UTF-16 when a byte order mark says so', async () => {
    const le = new Uint8Array([0xff, 0xfe, ...Buffer.from('Grüße', 'utf16le')]);
    expect((await extractText(le, 'windows.txt')).text).toBe('Grüße');
  });

  it('falls back to the mime type when the extension says nothing', async () => {
    expect((await extractText(utf8('plain'), 'README', 'text/plain; charset=utf-8')).text).toBe('plain');
    expect((await extractText(utf8('{"k":1}'), 'blob', 'application/json')).text).toBe('{"k":1}');
    expect((await extractText(utf8('<p>Hi <b>there</b></p>'), 'page', 'text/html')).text).toBe('Hi there');
  });

  it('rejects invalid UTF-8, NUL bytes and files with no text', async () => {
    await expect(extractText(new Uint8Array([0x61, 0x62, 0xc3, 0x28, 0x63]), 'bad.txt')).rejects.toEqual(
      rejection('invalid_file', /'bad\.txt' is not valid UTF-8 text/),
    );
    await expect(extractText(new Uint8Array([0x61, 0x00, 0x62]), 'bin.json')).rejects.toEqual(
      rejection('invalid_file', /NUL bytes/),
    );
    await expect(extractText(new Uint8Array(), 'empty.txt')).rejects.toEqual(
      rejection('invalid_file', /'empty\.txt' contains no extractable text/),
    );
    await expect(extractText(utf8(' \n\t\r\n '), 'blank.md')).rejects.toEqual(
      rejection('invalid_file', /no extractable text/),
    );
  });
});

describe('extractText: HTML', () => {
  it('keeps the readable text and drops scripts, styles and link targets', async () => {
    const html = `<!doctype html><html><head><title>Ignored title</title>
      <style>.secret-style { color: red }</style><script>var secretScript = 1;</script></head>
      <body><h1>Welcome</h1><p>Read the <a href="https://example.com/track?id=1">guide</a> first.</p>
      <noscript>secretNoscript</noscript><img src="pixel.png" alt="secretAlt">
      <table><tr><th>Name</th><th>Qty</th></tr><tr><td>Apples</td><td>3</td></tr></table>
      <script type="module">import('secretModule')</script></body></html>`;
    const { text, pages } = await extractText(utf8(html), 'page.HTML');
    expect(pages).toBeNull();
    expect(text).toMatch(/^Welcome\n\nRead the guide first\./);
    expect(text).toMatch(/Name\s+Qty\nApples\s+3/);
    expect(text).not.toMatch(/secret|example\.com|pixel|Ignored title|<|>/);
  });

  it('rejects a page with no text', async () => {
    await expect(extractText(utf8('<html><script>x()</script></html>'), 'empty.htm')).rejects.toEqual(
      rejection('invalid_file', /no extractable text/),
    );
  });
});

describe('extractText: PDF', () => {
  it('extracts page by page and records where each page starts', async () => {
    const pdf = await makePdf([
      'Alpha page one.\nSecond line of page one.',
      '',
      'Gamma page three.',
      'Delta four.',
    ]);
    const { text, pages } = await extractText(pdf, 'report.pdf', 'application/pdf');
    expect(text).toBe('Alpha page one.\nSecond line of page one.\n\nGamma page three.\n\nDelta four.');
    expect(pages?.map((p) => p.page)).toEqual([1, 2, 3, 4]);
    const [one, two, three, four] = pages!;
    expect(text.slice(one!.start)).toMatch(/^Alpha/);
    expect(two!.start).toBe(text.indexOf('\n\nGamma')); // the empty page holds no text
    expect(text.slice(three!.start)).toMatch(/^Gamma page three\.\n\nDelta/);
    expect(text.slice(four!.start)).toBe('Delta four.');
  });

  it('gives chunks the page they start on', async () => {
    const long = (word: string) => Array.from({ length: 8 }, () => `${word} sentence here.`).join('\n');
    const { text, pages } = await extractText(await makePdf([long('First'), long('Second')]), 'two.pdf');
    const chunks = chunkText(text, { maxTokens: 20, overlapTokens: 0, pages });
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const c of chunks) {
      const first = c.charStart + c.text.search(/\S/);
      const line = text.slice(text.lastIndexOf('\n', first) + 1);
      expect(c.page).toBe(line.startsWith('Second') ? 2 : 1);
    }
    expect(chunks.at(-1)!.page).toBe(2);
  });

  it('rejects corrupt, truncated and text-less PDFs with invalid_file', async () => {
    const good = await makePdf(['Some text.']);
    await expect(extractText(good.slice(0, 200), 'cut.pdf')).rejects.toEqual(
      rejection('invalid_file', /'cut\.pdf' could not be read: it is not a valid PDF/),
    );
    await expect(extractText(utf8('%PDF-1.7\nnot really'), 'fake.pdf')).rejects.toEqual(
      rejection('invalid_file', /not a valid PDF/),
    );
    await expect(extractText(await makePdf(['']), 'scan.pdf')).rejects.toEqual(
      rejection('invalid_file', /no extractable text \(scanned pages/),
    );
  });

  it('leaves the caller’s bytes usable', async () => {
    const pdf = await makePdf(['Reusable.']);
    await extractText(pdf, 'a.pdf');
    expect((await extractText(pdf, 'a.pdf')).text).toBe('Reusable.');
  });
});

describe('extractText: DOCX', () => {
  it('extracts paragraphs and table cells in order', async () => {
    const { text, pages } = await extractText(await makeDocx(), 'report.docx');
    expect(pages).toBeNull();
    expect(text).toBe(
      'Quarterly report\n\nRevenue grew by 12% — déjà vu 😀.\n\nNorth\n\nSouth\n\nClosing remarks.',
    );
  });

  it('rejects files that are not Word documents with invalid_file', async () => {
    await expect(extractText(utf8('plain text, not a zip'), 'fake.docx')).rejects.toEqual(
      rejection('invalid_file', /'fake\.docx' could not be read: it is not a valid \.docx/),
    );
    await expect(extractText(await makePdf(['x']), 'swapped.docx')).rejects.toEqual(
      rejection('invalid_file', /not a valid \.docx/),
    );
  });
});

describe('supported types', () => {
  it('rejects unsupported types with a message naming the type and the supported ones', async () => {
    const error = await extractText(new Uint8Array([0x4d, 0x5a]), 'setup.exe').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'unsupported_file', status: 400 });
    expect((error as ApiError).message).toMatch(
      /^Cannot extract text from 'setup\.exe': '\.exe' files are not/,
    );
    expect((error as ApiError).message).toMatch(/Supported extensions: \.pdf, \.docx, \.html, .*\.txt/);
    await expect(extractText(new Uint8Array([0x89, 0x50]), 'photo.PNG', 'image/png')).rejects.toEqual(
      rejection('unsupported_file', /'\.png' files are not supported/),
    );
    await expect(extractText(utf8('x'), 'Makefile', 'application/octet-stream')).rejects.toEqual(
      rejection('unsupported_file', /files without an extension \(type application\/octet-stream\)/),
    );
  });

  it('answers isSupportedFile by extension, then mime type', () => {
    for (const name of ['a.txt', 'B.PDF', 'c.docx', 'd.htm', 'e.yml', 'f.go', 'g.tsx', 'h.sql', 'i.tex']) {
      expect(isSupportedFile(name), name).toBe(true);
    }
    expect(isSupportedFile('a.exe')).toBe(false);
    expect(isSupportedFile('a.png', 'image/png')).toBe(false);
    expect(isSupportedFile('a.doc')).toBe(false);
    expect(isSupportedFile('notes')).toBe(false);
    expect(isSupportedFile('notes', 'text/markdown')).toBe(true);
    expect(isSupportedFile('.bashrc', 'text/x-shellscript')).toBe(true);
    expect(isSupportedFile('x', 'application/vnd.api+json')).toBe(true);
    expect(isSupportedFile('x', 'text/rtf')).toBe(false);
  });

  it('covers every type MAIA extracts', () => {
    const maia = ['.txt', '.md', '.json', '.html', '.htm', '.csv', '.xml', '.yaml', '.yml', '.pdf', '.docx'];
    expect(SUPPORTED_EXTENSIONS).toEqual(expect.arrayContaining(maia));
  });
});
