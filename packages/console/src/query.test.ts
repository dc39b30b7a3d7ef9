import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  curlSnippet,
  requestBody,
  rowsToFilter,
  type SearchForm,
  sdkSnippet,
  splitMatches,
  terms,
} from './query.ts';

const form = (p: Partial<SearchForm> = {}): SearchForm => ({
  query: 'launch',
  mode: 'hybrid',
  maxResults: 10,
  threshold: '',
  filterMode: 'form',
  combine: 'and',
  rows: [],
  json: '',
  ...p,
});

describe('the search request the playground builds', () => {
  it('maps modes to OpenAI ranking options, or MAIA search_mode for keyword', () => {
    expect(requestBody(form())).toEqual({
      query: 'launch',
      max_num_results: 10,
      ranking_options: { ranker: 'auto' },
    });
    expect(requestBody(form({ mode: 'vector', threshold: '0.25' }))).toMatchObject({
      ranking_options: { ranker: 'none', score_threshold: 0.25 },
    });
    const keyword = requestBody(form({ mode: 'keyword' }));
    expect(keyword.search_mode).toBe('keyword');
    expect(keyword.ranking_options).toBeUndefined();
    expect(() => requestBody(form({ threshold: '2' }))).toThrow(/0 to 1/);
  });

  it('types filter values and combines rows; one row is a bare comparison', () => {
    expect(rowsToFilter([{ key: 'lang', op: 'eq', value: 'de', type: 'string' }], 'and')).toEqual({
      type: 'eq',
      key: 'lang',
      value: 'de',
    });
    expect(
      rowsToFilter(
        [
          { key: 'v', op: 'gte', value: '2', type: 'number' },
          { key: 'draft', op: 'eq', value: 'false', type: 'boolean' },
          { key: 'tag', op: 'in', value: 'a, b', type: 'string' },
          { key: ' ', op: 'eq', value: 'ignored', type: 'string' },
        ],
        'or',
      ),
    ).toEqual({
      type: 'or',
      filters: [
        { type: 'gte', key: 'v', value: 2 },
        { type: 'eq', key: 'draft', value: false },
        { type: 'in', key: 'tag', value: ['a', 'b'] },
      ],
    });
    expect(() => rowsToFilter([{ key: 'v', op: 'gt', value: 'two', type: 'number' }], 'and')).toThrow(
      /number/,
    );
    expect(() => requestBody(form({ filterMode: 'json', json: '{nope' }))).toThrow(/JSON/);
    expect(
      requestBody(form({ filterMode: 'json', json: '{"type":"eq","key":"a","value":1}' })).filters,
    ).toEqual({
      type: 'eq',
      key: 'a',
      value: 1,
    });
  });
});

describe('the equivalent request', () => {
  it('is a curl command the shell reads back to the same JSON, quotes and all', () => {
    const body = { query: "it's a 'quoted' $HOME `x`", max_num_results: 3 };
    const cmd = curlSnippet('http://127.0.0.1:8000', 'vs_1', body);
    expect(cmd).toContain('$VECTORDB_API_KEY');
    // Have bash parse the command and print the -d argument it would pass.
    const printed = execFileSync('bash', ['-c', `curl() { printf '%s\\n' "$@"; }; ${cmd}`], {
      env: { VECTORDB_API_KEY: 'k', PATH: process.env.PATH ?? '' },
    }).toString();
    const args = printed.trim().split('\n');
    expect(JSON.parse(args[args.indexOf('-d') + 1]!)).toEqual(body);
    expect(args).toContain('Authorization: Bearer k');
  });

  it('is openai SDK code naming the store and the body', () => {
    const code = sdkSnippet('http://h', 'vs_1', { query: 'q', search_mode: 'keyword' });
    expect(code).toContain("import OpenAI from 'openai';");
    expect(code).toContain('baseURL: "http://h/v1"');
    expect(code).toContain('OPENAI_API_KEY="$VECTORDB_API_KEY"');
    expect(code).toContain('client.vectorStores.search("vs_1", {');
    expect(code).toContain('extension');
  });
});

describe('highlighting', () => {
  it('marks query words and their longer forms, case-insensitively, not inside other words', () => {
    const words = terms('Launch, the ROCKET!');
    expect(words).toEqual(['launch', 'rocket']);
    const parts = splitMatches('Launches of rockets: relaunch them.', words);
    expect(parts.filter((_, i) => i % 2)).toEqual(['Launches', 'rockets']);
    expect(parts.join('')).toBe('Launches of rockets: relaunch them.');
    expect(splitMatches('nothing here', [])).toEqual(['nothing here']);
  });
});
