import { describe, expect, it } from 'vitest';
import { textParts } from './derived.ts';

describe('textParts', () => {
  it('cuts a long text into parts of at most 1 MB that join back to it, never inside a surrogate pair', () => {
    expect(textParts('')).toEqual(['']);
    expect(textParts('short')).toEqual(['short']);
    const text = `${'a'.repeat((1 << 20) - 1)}😀${'b'.repeat(1 << 20)}`;
    const parts = textParts(text);
    expect(parts.join('')).toBe(text);
    expect(parts.every((p) => p.length <= 1 << 20)).toBe(true);
    expect(parts[0]!.endsWith('a')).toBe(true);
    expect(parts[1]!.startsWith('😀')).toBe(true);
  });
});
