import type { Dialect } from '../../core/dialect.ts';
import type { HubRequest } from '../http-message.ts';

/*
 * The dialect a route decided a request speaks, for whoever answers it afterwards: the error
 * writer answers a draft-08 request's refusals the draft-08 way (RFC 6750 challenges). Kept
 * beside the request rather than on it, and forgotten with it.
 */
const dialects = new WeakMap<HubRequest, Dialect>();

/** Records the dialect of `req` (the subscribe route does, once it has read the query). */
export function setRequestDialect(req: HubRequest, dialect: Dialect): void {
  dialects.set(req, dialect);
}

/** The dialect recorded for `req`, or `undefined` where its shape did not tell (yet). */
export function requestDialect(req: HubRequest): Dialect | undefined {
  return dialects.get(req);
}
