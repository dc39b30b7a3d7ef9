import OpenAI from 'openai';
import type { Config } from '../config.ts';

const FILLER =
  /^(?:(?:please|hey|hi|so|ok(?:ay)?)[,\s]+)*(?:(?:can|could|would) you (?:please )?(?:tell me|show me|explain|find|help me (?:understand|find))\s+|i (?:want|need|would like) to know\s+|tell me\s+|what (?:is|are) (?:the )?|how (?:do|does|can) i\s+|where (?:is|are|can i find)\s+|find\s+|search(?: for)?\s+)/i;

/** The deterministic query cleanup: conversational filler, stray punctuation and extra spaces removed. */
export function cleanupQuery(query: string): string {
  let q = query.normalize('NFKC').replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 3; i++) q = q.replace(FILLER, '').trim();
  q = q
    .replace(/[?!.]+$/g, '')
    .replace(/^["'`]+|["'`]+$/g, '')
    .trim();
  return q || query.trim();
}

/**
 * OpenAI's rewrite_query: with REWRITE_MODEL set, an LLM turns the question into a search query;
 * otherwise (or if that call fails) the deterministic cleanup does.
 */
export async function rewriteQuery(config: Config, query: string): Promise<string> {
  if (!config.REWRITE_MODEL || !config.OPENAI_API_KEY) return cleanupQuery(query);
  try {
    const client = new OpenAI({
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      maxRetries: 1,
      timeout: 10_000,
      organization: null,
      project: null,
    });
    const res = await client.chat.completions.create({
      model: config.REWRITE_MODEL,
      temperature: 0,
      max_tokens: 64,
      messages: [
        {
          role: 'system',
          content:
            'Rewrite the user message as a short keyword search query for a document search engine. Keep names, ' +
            'identifiers, codes and numbers exactly. Answer with the query only.',
        },
        { role: 'user', content: query },
      ],
    });
    const text = res.choices[0]?.message.content?.trim();
    return text ? text.slice(0, 1000) : cleanupQuery(query);
  } catch {
    return cleanupQuery(query);
  }
}
