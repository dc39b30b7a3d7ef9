// The files that once stalled or killed the server (issue #14), built on demand for the tests and the bench.
import { Document, Packer, Paragraph, TextRun } from 'docx';
import { PDFArray, PDFDocument, PDFName, PDFNumber, StandardFonts } from 'pdf-lib';

export interface PathologicalFile {
  name: string;
  filename: string;
  bytes: Uint8Array;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A small PDF whose page tree lists the same page `times` times (pdf.js then extracts it that often). */
export async function repeatedPagePdf(times = 3000): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage();
  page.drawText('The same page, listed again and again in the page tree.', { x: 50, y: 700, font, size: 12 });
  const pages = doc.catalog.lookup(PDFName.of('Pages')) as import('pdf-lib').PDFDict;
  const kids = PDFArray.withContext(doc.context);
  for (let i = 0; i < times; i++) kids.push(page.ref);
  pages.set(PDFName.of('Kids'), kids);
  pages.set(PDFName.of('Count'), PDFNumber.of(times));
  return doc.save({ useObjectStreams: false, updateFieldAppearances: false });
}

/** A DOCX of many small paragraphs: ~100 KB on disk, far more once parsed (exhausts a small heap budget). */
export async function heavyDocx(paragraphs = 20_000): Promise<Uint8Array> {
  const children = Array.from(
    { length: paragraphs },
    (_, i) => new Paragraph({ children: [new TextRun(`w${i} `.repeat(20))] }),
  );
  return new Uint8Array(await Packer.toBuffer(new Document({ sections: [{ children }] })));
}

/** A text PDF of `pages` pages of prose (a large, ordinary document). */
export async function largePdf(pages = 200): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage();
    for (let line = 0; line < 40; line++) {
      page.drawText(
        `Page ${p + 1}, line ${line + 1}: the quick brown fox jumps over the lazy dog ${p * 40 + line}.`,
        {
          x: 40,
          y: 760 - line * 18,
          font,
          size: 10,
        },
      );
    }
  }
  return doc.save();
}

/** The pathological files of issue #14, each as it was measured there. */
export async function pathologicalFiles(): Promise<PathologicalFile[]> {
  return [
    { name: 'PDF listing one page 3,000 times', filename: 'pages.pdf', bytes: await repeatedPagePdf() },
    {
      name: 'JSON nested 100,000 deep',
      filename: 'deep.json',
      bytes: utf8(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    },
    { name: 'one 100,000-character word', filename: 'word.txt', bytes: utf8('a'.repeat(100_000)) },
    {
      name: 'CSV with one 10 MB line',
      filename: 'line.csv',
      bytes: utf8(Array.from({ length: 1_000_000 }, (_, i) => `c${i % 100_000}`.padEnd(9, 'x')).join(',')),
    },
    {
      name: '19 MB text',
      filename: 'big.txt',
      bytes: utf8(
        Array.from(
          { length: 19 * 1024 },
          (_, i) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(37)}\n\n`,
        ).join(''),
      ),
    },
  ];
}
