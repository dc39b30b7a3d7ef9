import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ApiError } from '../errors.ts';
import { parseRetryAfter } from './retry.ts';

/** What went wrong with one attempt, and whether another attempt may help. */
export interface AttemptFailure {
  retryable: boolean;
  /** HTTP status, or 'timeout' / 'connection' when no response came. */
  status: number | 'timeout' | 'connection';
  /** Short, key-free description for logs and the final message. */
  reason: string;
  retryAfterMs?: number;
  /** The error to throw when this failure is final and not a give-up after retries. */
  error: ApiError;
}

// 408 is a server-side timeout: as transient as a 504.
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** Classifies an error thrown by the SDK for one attempt (SDK retries are off, so this is one HTTP request). */
export function classifyFailure(err: unknown, ctx: { model: string; timeoutMs: number }): AttemptFailure {
  if (err instanceof APIConnectionTimeoutError) {
    const reason = `no answer within ${ctx.timeoutMs} ms`;
    return {
      retryable: true,
      status: 'timeout',
      reason,
      error: embeddingError(`The embedding provider gave ${reason}.`),
    };
  }
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const reason = `connection failed${redact(cause)}`;
    return {
      retryable: true,
      status: 'connection',
      reason,
      error: embeddingError(`Could not reach the embedding provider (${reason}). Check OPENAI_BASE_URL.`),
    };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const detail = redact(providerMessage(err));
    const reason = `HTTP ${status}${detail ? `: ${truncate(detail, 200)}` : ''}`;
    if (status === 429 && err.code === 'insufficient_quota') {
      return {
        retryable: false,
        status,
        reason,
        error: embeddingError(
          'The embedding provider reports the account is out of quota (429 insufficient_quota).',
        ),
      };
    }
    if (RETRYABLE.has(status)) {
      const retryAfterMs = parseRetryAfter(err.headers);
      return {
        retryable: true,
        status,
        reason,
        error: embeddingError(`The embedding provider failed (${reason}).`),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    return { retryable: false, status, reason, error: rejection(status, detail, ctx.model) };
  }
  const message = err instanceof Error ? err.message : String(err);
  const reason = `unreadable response: ${truncate(redact(message), 200)}`;
  return {
    retryable: false,
    status: 'connection',
    reason,
    error: embeddingError(`The embedding provider sent an ${reason}.`),
  };
}

function rejection(status: number, detail: string, model: string): ApiError {
  const said = detail ? ` It said: ${truncate(detail, 300)}` : '';
  switch (status) {
    case 401:
      // The provider's 401 text may echo a masked key: leave it out entirely.
      return embeddingError('The embedding provider rejected the API key (401). Check OPENAI_API_KEY.');
    case 403:
      return embeddingError(
        `The embedding provider refused access (403) to model '${model}'. Check that OPENAI_API_KEY may use it.${said}`,
      );
    case 404:
      return embeddingError(
        `The embedding provider has no model '${model}' or no embeddings endpoint at OPENAI_BASE_URL (404). Check EMBEDDING_MODEL and OPENAI_BASE_URL.${said}`,
      );
    case 400:
    case 422:
      return embeddingError(
        `The embedding provider rejected the request (${status}) for model '${model}'.${said}`,
      );
    default:
      return embeddingError(`The embedding provider answered ${status}.${said}`);
  }
}

export function embeddingError(message: string): ApiError {
  return new ApiError('embedding_error', message);
}

function providerMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string') return body.message;
  return '';
}

function redact(text: string): string {
  return text.replace(/\b(sk|key)-[\w*-]{4,}/gi, '[redacted]');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
