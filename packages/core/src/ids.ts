import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An opaque id in OpenAI's style: a type prefix and 24 random alphanumerics (~143 bits). */
export function newId(prefix: 'vs_' | 'file-' | 'vsfb_' | 'upload_' | 'part_' | 'key_' | 'proj_'): string {
  const bytes = randomBytes(24);
  let out = prefix;
  // 62 does not divide 256; the 4/256 bias on a few letters is harmless for ids.
  for (const b of bytes) out += ALPHABET[b % 62];
  return out;
}
