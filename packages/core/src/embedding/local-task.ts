// Runs in a thread of the local embedder's pool (local.ts): the lexical embeddings of a batch of texts and
// their token counts, so a large batch never holds the thread that answers requests.
import Tinypool from 'tinypool';
import { countTokens } from '../tokenizer.ts';
import { lexicalEmbedding } from './local.ts';

export interface LocalEmbedTask {
  texts: string[];
  dimensions: number;
}

export interface LocalEmbedResult {
  /** texts.length x dimensions values, row after row (moved back, not copied). */
  vectors: Float64Array;
  tokens: number;
}

export default function embedLocal(task: LocalEmbedTask) {
  const { texts, dimensions } = task;
  const vectors = new Float64Array(texts.length * dimensions);
  let tokens = 0;
  texts.forEach((text, i) => {
    tokens += countTokens(text);
    vectors.set(lexicalEmbedding(text, dimensions), i * dimensions);
  });
  const result: LocalEmbedResult = { vectors, tokens };
  // Moved, not cloned: the thread gives the buffer up.
  return Tinypool.move({
    [Tinypool.transferableSymbol]: [vectors.buffer],
    [Tinypool.valueSymbol]: result,
  } as never);
}
