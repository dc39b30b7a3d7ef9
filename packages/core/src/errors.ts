/** The closed set of error codes; each maps once to an HTTP status and an OpenAI error type. */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_file: { status: 400, type: 'invalid_request_error' },
  unsupported_file: { status: 400, type: 'invalid_request_error' },
  expired: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  missing_api_key: { status: 401, type: 'authentication_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  unprocessable: { status: 422, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  server_error: { status: 500, type: 'server_error' },
  embedding_error: { status: 502, type: 'server_error' },
  database_unavailable: { status: 503, type: 'server_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error whose message is safe to show to the caller. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, param?: string | null, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.param = param ?? null;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** The OpenAI error envelope. */
  toJSON() {
    return {
      error: { message: this.message, type: ERROR_CODES[this.code].type, param: this.param, code: this.code },
    };
  }
}

export const notFound = (what: string, id: string, param?: string) =>
  new ApiError('not_found', `No ${what} found with id '${id}'.`, param);
