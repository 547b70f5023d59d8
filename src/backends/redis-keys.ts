/**
 * Where one hub's keys live. On one server or behind Sentinels a key is the prefix and a name,
 * `herald:stream`. On a Redis Cluster every script and every multi-key read must touch keys of
 * one slot, so all of a hub's keys share a hash tag (the part of a key in braces, which alone
 * decides its slot): the prefix in braces, `{herald:}stream`. A prefix that holds a hash tag
 * already, e.g. `{herald}:`, is used as it is everywhere, so that one layout serves both.
 *
 * The price, which the operations guide states: one hub's keys live in one slot, so on one
 * master (and its replicas). A cluster gives that hub failover, not a stream spread over masters.
 */
export function hubKeyPrefix(prefix: string, cluster: boolean): string {
  if (!cluster || hasHashTag(prefix)) return prefix;
  return `{${prefix}}`;
}

/**
 * True when Redis would hash keys starting with `prefix` by a tag inside it: a `{`, then the
 * first `}` after it, with at least one character between.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}
