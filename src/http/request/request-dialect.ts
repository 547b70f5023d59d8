import type { Dialect } from '../../core/dialect.ts';
import type { HubRequest } from '../http-message.ts';

/*
 * The dialect a route decided a request speaks, for whoever answers it afterwards: the error
 * writer answers a draft-08 request's refusals the draft-08 way (RFC 6750 challenges). Kept on
 * the request under a symbol of this module, and forgotten with it: not in a WeakMap, whose
 * entries every open stream would hold for its whole life (ephemerons the GC walks each time).
 */
const DIALECT = Symbol('herald.requestDialect');

interface RequestWithDialect {
  [DIALECT]?: Dialect;
}

/** Records the dialect of `req` (the subscribe route does, once it has read the query). */
export function setRequestDialect(req: HubRequest, dialect: Dialect): void {
  (req as RequestWithDialect)[DIALECT] = dialect;
}

/** The dialect recorded for `req`, or `undefined` where its shape did not tell (yet). */
export function requestDialect(req: HubRequest): Dialect | undefined {
  return (req as RequestWithDialect)[DIALECT];
}
