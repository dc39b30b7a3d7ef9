// The fixed bounds of the API, in one place (the configurable ones are in config.ts). Each is enforced
// once, where the request is parsed; test/limits.test.ts holds every one of them to a clear 400/413.

/** Results a search serves at most, counting the pages before (offset + limit). */
export const MAX_SEARCH_WINDOW = 1000;
/** Deepest filter nesting: a lone comparison is depth 1, an `and` of comparisons depth 2. */
export const MAX_FILTER_DEPTH = 10;
/** Most comparisons plus compounds in one filter. */
export const MAX_FILTER_NODES = 100;
/** Most values across all `in` / `nin` lists of one filter. */
export const MAX_FILTER_VALUES = 1000;

/** OpenAI's documented limits for one embeddings request. */
export const EMBEDDING_LIMITS = { maxInputs: 2048, maxRequestTokens: 300_000, maxInputTokens: 8192 } as const;

/** OpenAI's Uploads bounds: a part is at most 64 MB, an upload has at most 10,000 parts and lives an hour. */
export const UPLOAD_PART_MAX_BYTES = 64 * 1024 * 1024;
export const UPLOAD_MAX_PARTS = 10_000;
export const UPLOAD_TTL_SECONDS = 3600;

/** Text fields of a /v1/files form, and of an upload part's form. */
export const FILE_FORM_FIELD_MAX_BYTES = 64 * 1024;
export const PART_FORM_FIELD_MAX_BYTES = 1024;

/** Longest text item of a file content page; longer pages are split. */
export const CONTENT_ITEM_CHARS = 50_000;
/** Characters of text one content page carries at most before `has_more`. */
export const CONTENT_PAGE_CHARS = 200_000;
