import type { Grants } from './grants.ts';
import type { AccessTokenContext, TokenRole } from './token-verifier.ts';

/** A verification, and what it was made for: the same token for another is verified again. */
interface Entry {
  readonly role: TokenRole;
  readonly context: AccessTokenContext | undefined;
  readonly grants: Grants;
  /** Milliseconds since the epoch from which the entry is no longer used. */
  readonly until: number;
}

/**
 * Tokens whose verification succeeded, by the token string, with the grants it gave. A client
 * that reconnects presents the same token (every client of a restarted node at once, in a
 * reconnect storm), and checking its signature again is the dearest step of a subscribe.
 *
 * A cached verification never says more than verifying again would:
 *
 * - It is used only until the token's `exp` plus the clock tolerance (`Grants.expiresAt`), which
 *   is no later than jose accepts it (jose compares whole seconds): an expired token is verified
 *   again, and refused. A token without `exp` never expires, cached or not.
 * - Only verifications by keys fixed for the life of the process are cached (a secret or a PEM
 *   key loaded at start-up): rotating them means restarting with new ones, which starts with an
 *   empty cache. A token verified by a remote key set (JWKS) is never cached: the set may drop
 *   its key at any moment, and the token must stop working as soon as jose sees that.
 * - An entry answers only the same role, resource identifier, hub URL and request dialect it was
 *   verified for; failures are never cached.
 *
 * Bounded by `maxEntries`: past it, the oldest verification goes first.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The grants `token` was verified to give for `role` in `context`, while they still hold. */
  get(token: string, role: TokenRole, context: AccessTokenContext | undefined): Grants | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(token);
      return undefined;
    }
    if (entry.role !== role || !sameContext(entry.context, context)) return undefined;
    return entry.grants;
  }

  /** Remembers a successful verification of `token` for `role` in `context`. */
  set(
    token: string,
    role: TokenRole,
    context: AccessTokenContext | undefined,
    grants: Grants,
  ): void {
    if (this.#maxEntries <= 0) return;
    const until = grants.expiresAt ?? Number.POSITIVE_INFINITY;
    if (until <= this.#now()) return;
    this.#entries.delete(token);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    // The context's fields, not the object: a request's context is built per request.
    const kept =
      context === undefined
        ? undefined
        : { resource: context.resource, hubUrl: context.hubUrl, dialect: context.dialect };
    this.#entries.set(token, { role, context: kept, grants, until });
  }
}

function sameContext(
  a: AccessTokenContext | undefined,
  b: AccessTokenContext | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.resource === b.resource && a.hubUrl === b.hubUrl && a.dialect === b.dialect;
}
