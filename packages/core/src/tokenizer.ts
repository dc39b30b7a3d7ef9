import { countTokens as cl100kCount, decode, encodeGenerator } from 'gpt-tokenizer/encoding/cl100k_base';

// The one tokenizer: cl100k_base, the encoding of text-embedding-3-* and ada-002. Chunk sizes, the
// embeddings limits and the offline provider's usage all count with it.

/** Special-token text such as "<|endoftext|>" in a document or an input is plain text, never a control token. */
const PLAIN = { disallowedSpecial: new Set<string>() };

/** The cl100k_base token count of a text. */
export function countTokens(text: string): number {
  return text ? cl100kCount(text, PLAIN) : 0;
}

/** The tokens of a text, one pre-tokenizer piece at a time. */
export const encodePieces = (text: string) => encodeGenerator(text, PLAIN);

/** The text of cl100k_base tokens. */
export const decodeTokens = (tokens: number[]) => decode(tokens);

/** The byte sequence of every token (loading it reads the 1 MB rank table: touch it on first use only). */
export { default as tokenBytes } from 'gpt-tokenizer/bpeRanks/cl100k_base';
