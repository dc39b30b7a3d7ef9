import { ApiError } from '../errors.ts';
import { EMBEDDING_LIMITS } from '../limits.ts';
import { countTokens } from '../tokenizer.ts';

export type PackLimits = { maxInputs: number; maxRequestTokens: number; maxInputTokens: number };

export interface Batch {
  /** Index of the first input of this batch in the caller's array; the batch covers a contiguous run. */
  start: number;
  inputs: string[];
  tokens: number;
}

/**
 * Splits inputs, in order, into contiguous batches within the per-request limits (see packCounts).
 * Throws ApiError('invalid_request') naming the first input that is empty or over the per-input limit.
 */
export function packBatches(
  inputs: string[],
  limits: PackLimits = EMBEDDING_LIMITS,
  /** The inputs' token counts, when known (counting 300,000 tokens takes a few hundred ms). */
  known?: number[],
): Batch[] {
  const counts = inputs.map((input, i) => {
    if (typeof input !== 'string' || input.length === 0) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} is empty: every input must be a non-empty string.`,
        'input',
      );
    }
    const tokens = known?.[i] ?? countTokens(input);
    if (tokens > limits.maxInputTokens) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} has ${tokens} tokens, over the embedding model's limit of ${limits.maxInputTokens} tokens per input.`,
        'input',
      );
    }
    return tokens;
  });
  return packCounts(counts, limits).map(({ start, end, tokens }) => ({
    start,
    inputs: inputs.slice(start, end),
    tokens,
  }));
}

/**
 * Greedy in-order packing of token counts into [start, end) runs. Greedy is the minimum for contiguous
 * packing: both limits only get harder as a run grows, so by induction the k-th greedy run ends at or
 * after the k-th run of any valid packing, and greedy never needs more runs. For n inputs of t tokens
 * each that is max(ceil(n / maxInputs), ceil(n / floor(maxRequestTokens / t))).
 */
export function packCounts(counts: number[], limits: Omit<PackLimits, 'maxInputTokens'>) {
  const runs: Array<{ start: number; end: number; tokens: number }> = [];
  let run: { start: number; end: number; tokens: number } | undefined;
  counts.forEach((tokens, i) => {
    if (!run || run.end - run.start >= limits.maxInputs || run.tokens + tokens > limits.maxRequestTokens) {
      run = { start: i, end: i, tokens: 0 };
      runs.push(run);
    }
    run.end = i + 1;
    run.tokens += tokens;
  });
  return runs;
}
