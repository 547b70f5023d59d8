/**
 * The Mercure protocol dialects one Herald hub speaks at once: draft-07 (`topic=` selectors,
 * the `mercure` claim, JSON-LD subscription documents) and draft-08, Mercure 1.0 (`match…=`
 * matchers, RFC 9068 access tokens with `authorization_details`, JSON subscription documents).
 */
export type Dialect = '07' | '08';

/** Which dialects a hub serves (`--protocol`): one of them, or both side by side (the default). */
export type ProtocolSupport = Dialect | 'both';

export const PROTOCOL_SUPPORTS: readonly ProtocolSupport[] = ['07', '08', 'both'];

export function servesDialect(support: ProtocolSupport, dialect: Dialect): boolean {
  return support === 'both' || support === dialect;
}
