import { HeraldError } from '../core/errors.ts';
import type { HubResponse } from './http-message.ts';

/**
 * Answers with an RFC 9457 problem document. Errors that are not HeraldErrors are internal:
 * their message stays in the log, the client sees only the generic title.
 */
export function sendProblem(
  res: HubResponse,
  error: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const known =
    error instanceof HeraldError
      ? error
      : new HeraldError('HERALD_ERR_INTERNAL', 'The hub failed to handle this request.');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = problemBody(known);
  if (known.retryAfterSeconds !== undefined) {
    extraHeaders = { ...extraHeaders, 'Retry-After': String(known.retryAfterSeconds) };
  }
  if (known.status === 401 && extraHeaders['WWW-Authenticate'] === undefined) {
    // RFC 6750: tell the client which scheme to use, and (for a bad token) that it was invalid.
    // (Draft-08 answers come with their full challenge already.)
    extraHeaders = {
      ...extraHeaders,
      'WWW-Authenticate':
        known.code === 'HERALD_ERR_INVALID_TOKEN' ? 'Bearer error="invalid_token"' : 'Bearer',
    };
  }
  res.writeHead(known.status, {
    ...extraHeaders,
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The problem document of an error, as JSON text. */
export function problemBody(error: HeraldError): string {
  return JSON.stringify({
    // A URN, not a URL: Herald has no site to dereference it from. docs/errors.md lists them.
    type: `urn:herald:error:${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.message,
    reason: error.reason,
  });
}
