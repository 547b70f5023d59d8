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
  const body = JSON.stringify({
    // A URN, not a URL: Herald has no site to dereference it from. docs/errors.md lists them.
    type: `urn:herald:error:${known.code}`,
    title: known.title,
    status: known.status,
    code: known.code,
    detail: known.message,
    reason: known.reason,
  });
  if (known.status === 401) {
    // RFC 6750: tell the client which scheme to use, and (for a bad token) that it was invalid.
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
