import { describe, expect, it } from 'vitest';
import { normalizeColumnName, normalizeColumns, parseCsvRecords, parseStructuredCsv } from './csv.ts';

describe('structured CSV parsing', () => {
  it('reads quoted fields with commas, quotes and newlines, CRLF and a BOM', () => {
    expect(parseCsvRecords('\ufeffa,b\r\n"x, y","say ""hi"""\n"multi\nline",2\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', '2'],
    ]);
  });

  it('normalises headers as MAIA does', () => {
    expect(normalizeColumnName('Price (USD)')).toBe('price_usd');
    expect(normalizeColumnName('Beds / Bedrooms')).toBe('beds_bedrooms');
    expect(normalizeColumnName('2024 total')).toBe('col_2024_total');
    expect(normalizeColumnName('***')).toBe('col_');
    expect(normalizeColumns(['Name', 'name', 'NAME!'])).toEqual(['name', 'name_2', 'name_3']);
  });

  it("infers types and samples as MAIA's integration test expects", () => {
    const parsed = parseStructuredCsv(
      'Name,Age,City,Salary\nAlice,30,Austin,75000\nBob,25,Dallas,65000\nCharlie,35,Houston,90000',
    )!;
    expect(parsed.rows).toEqual([
      { name: 'Alice', age: 30, city: 'Austin', salary: 75000 },
      { name: 'Bob', age: 25, city: 'Dallas', salary: 65000 },
      { name: 'Charlie', age: 35, city: 'Houston', salary: 90000 },
    ]);
    expect(parsed.columns[0]).toEqual({
      normalized: 'name',
      original_header: 'Name',
      inferred_type: 'text',
      sample_values: ['Alice', 'Bob', 'Charlie'],
    });
    expect(parsed.columns.map((c) => c.inferred_type)).toEqual(['text', 'numeric', 'text', 'numeric']);
  });

  it('types booleans, decimals, dates and timestamps; empty cells are null', () => {
    const p = parseStructuredCsv(
      'ok,price,day,at,note\ntrue,1.5,2024-01-02,2024-01-02 10:00:00,\nFALSE,2,2024-02-03,,x',
    )!;
    expect(p.columns.map((c) => c.inferred_type)).toEqual([
      'boolean',
      'numeric',
      'date',
      'timestamp',
      'text',
    ]);
    expect(p.rows[0]).toEqual({
      ok: true,
      price: 1.5,
      day: '2024-01-02',
      at: '2024-01-02T10:00:00',
      note: null,
    });
    expect(p.columns[4]!.sample_values).toEqual(['x']);
  });

  it('keeps no table for a header alone or ragged rows', () => {
    expect(parseStructuredCsv('a,b\n')).toBeNull();
    expect(parseStructuredCsv('a,b\n1,2,3\n')).toBeNull();
  });
});
