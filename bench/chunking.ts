// Our token chunker against LangChain's token-based recursive splitter, same sizes, same text.
import { RecursiveCharacterTextSplitter, TokenTextSplitter } from '@langchain/textsplitters';
import { chunkText } from '@vsdb/core/ingest/chunk';
import { countTokens } from '@vsdb/core/tokenizer';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import type { TextCorpus } from './corpus.ts';
import { median, progress, round } from './stats.ts';

export interface ChunkingResult {
  mb_per_s: number;
  langchain_mb_per_s: number;
  ratio_vs_langchain: number;
  langchain_token_splitter_mb_per_s: number;
  langchain_gpt_tokenizer_mb_per_s: number;
  corpus_bytes: number;
  corpus_docs: number;
  corpus_sha256: string;
  corpus_source: string;
  chunk_tokens: number;
  overlap_tokens: number;
  runs: number;
  chunks: number;
  langchain_chunks: number;
  langchain_max_chunk_tokens: number;
}

const MAX = 800;
const OVERLAP = 400;

/** MB/s of each splitter over the whole corpus, one document at a time; the median of `runs` timed passes. */
export async function benchChunking(corpus: TextCorpus, runs: number): Promise<ChunkingResult> {
  // LangChain's own getEncoding downloads the ranks; the same cl100k_base ranks ship in js-tiktoken.
  const tiktoken = new Tiktoken(cl100k);
  const tokens = (text: string) => tiktoken.encode(text, [], []).length;
  const recursive = new RecursiveCharacterTextSplitter({
    chunkSize: MAX,
    chunkOverlap: OVERLAP,
    lengthFunction: tokens,
  });
  // The same algorithm with our tokenizer, to tell the splitter's cost from js-tiktoken's.
  const recursiveFast = new RecursiveCharacterTextSplitter({
    chunkSize: MAX,
    chunkOverlap: OVERLAP,
    lengthFunction: countTokens,
  });
  const tokenSplitter = new TokenTextSplitter({
    chunkSize: MAX,
    chunkOverlap: OVERLAP,
    encodingName: 'cl100k_base',
  });
  // Its tokenizer is private and would be downloaded on first use: hand it the local one.
  (tokenSplitter as unknown as { tokenizer: Tiktoken }).tokenizer = tiktoken;

  const texts = corpus.docs.map((d) => d.text);
  const ours = async () =>
    texts.reduce((n, t) => n + chunkText(t, { maxTokens: MAX, overlapTokens: OVERLAP }).length, 0);
  const theirs = async () => {
    let n = 0;
    for (const t of texts) n += (await recursive.splitText(t)).length;
    return n;
  };
  const theirsFast = async () => {
    let n = 0;
    for (const t of texts) n += (await recursiveFast.splitText(t)).length;
    return n;
  };
  const theirTokens = async () => {
    let n = 0;
    for (const t of texts) n += (await tokenSplitter.splitText(t)).length;
    return n;
  };

  const mb = corpus.bytes / 1e6;
  const speed = async (name: string, fn: () => Promise<number>) => {
    const count = await fn(); // warm-up: JIT, tokenizer tables
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await fn();
      times.push(performance.now() - started);
    }
    const mbps = mb / (median(times) / 1000);
    progress(`chunking ${name}: ${mbps.toFixed(2)} MB/s (${count} chunks)`);
    return { mbps, count };
  };
  const our = await speed('ours', ours);
  const lc = await speed('LangChain recursive (token length)', theirs);
  const lcFast = await speed('LangChain recursive (gpt-tokenizer length)', theirsFast);
  const lcToken = await speed('LangChain TokenTextSplitter', theirTokens);

  let langchainMax = 0;
  for (const t of texts)
    for (const c of await recursive.splitText(t)) langchainMax = Math.max(langchainMax, countTokens(c));
  return {
    mb_per_s: round(our.mbps, 2),
    langchain_mb_per_s: round(lc.mbps, 2),
    ratio_vs_langchain: round(our.mbps / lc.mbps, 2),
    langchain_token_splitter_mb_per_s: round(lcToken.mbps, 2),
    langchain_gpt_tokenizer_mb_per_s: round(lcFast.mbps, 2),
    corpus_bytes: corpus.bytes,
    corpus_docs: corpus.docs.length,
    corpus_sha256: corpus.sha256,
    corpus_source: corpus.source,
    chunk_tokens: MAX,
    overlap_tokens: OVERLAP,
    runs,
    chunks: our.count,
    langchain_chunks: lc.count,
    langchain_max_chunk_tokens: langchainMax,
  };
}
