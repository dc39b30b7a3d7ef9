import { ApiError } from '../errors.ts';

/** The body's chunks, refusing (ApiError payload_too_large) as soon as they pass maxBytes. */
export async function* limitBytes(
  body: AsyncIterable<Uint8Array> | Uint8Array,
  maxBytes: number | undefined,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of body instanceof Uint8Array ? [body] : body) {
    bytes += chunk.byteLength;
    if (maxBytes !== undefined && bytes > maxBytes) {
      throw new ApiError('payload_too_large', `File is larger than the limit of ${maxBytes} bytes.`, 'file');
    }
    yield chunk;
  }
}
