import { HeraldError } from './errors.ts';
import { hasForbiddenCharacter } from './url-pattern.ts';

/** The path of the hub URL (Mercure's well-known path). Herald always serves the hub there. */
export const HUB_PATH = '/.well-known/mercure';

// Any base with the hub's path does: the rule looks at the resolved path only, "regardless of
// scheme or authority".
const BASE = `http://herald.invalid${HUB_PATH}`;

const UNRESERVED_ESCAPE = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[DEde]|5[Ff]|7[Ee])/g;

/**
 * Whether a topic addresses the hub's reserved namespace, as draft-08 defines it: resolved
 * against the hub URL by the URL Standard's parser (which removes dot-segments), with the
 * percent-escapes of unreserved characters decoded, its path is the hub path or under it. So
 * `/.well-known/%6Dercure/x`, `/a/../.well-known/mercure/x` and
 * `https://any.host/.well-known/mercure/x` all do; a topic that is not a URL reference does not.
 */
export function addressesHubNamespace(topic: string): boolean {
  let path: string;
  try {
    path = new URL(topic, BASE).pathname;
    // Decoding may spell a dot-segment again (`%2E%2E`): resolve until nothing changes.
    for (let round = 0; round < 4; round++) {
      const decoded = path.replace(UNRESERVED_ESCAPE, (escape) =>
        String.fromCharCode(Number.parseInt(escape.slice(1), 16)),
      );
      if (decoded === path) break;
      path = new URL(`http://herald.invalid${decoded}`).pathname;
    }
  } catch {
    return false;
  }
  return path === HUB_PATH || path.startsWith(`${HUB_PATH}/`);
}

/**
 * The rules a publish obeys whatever its token (draft-08, "Publication"), applied to every
 * publish on this hub, draft-07 publishers' too: one hub serves both dialects, and a rule that
 * only one dialect's publishers obeyed would let the other forge what the first is protected
 * from. Throws a 400 HeraldError for:
 * - a topic with a C0/C1 control, DEL or Unicode format character (HERALD_ERR_INVALID_TOPIC);
 * - a topic that is exactly `*`, the wildcard no matcher could single out (HERALD_ERR_RESERVED_TOPIC);
 * - a topic in the hub's reserved namespace (HERALD_ERR_RESERVED_TOPIC): only the hub writes
 *   there, which is what lets subscribers (and every node's presence) trust subscription events;
 * - the event type `mercure`, which marks the hub's own subscription events (HERALD_ERR_INVALID_TYPE).
 */
export function checkPublishedUpdate(update: {
  readonly topics: readonly string[];
  readonly type?: string | undefined;
}): void {
  for (const topic of update.topics) {
    if (hasForbiddenCharacter(topic) || /\p{Cs}/u.test(topic)) {
      throw new HeraldError(
        'HERALD_ERR_INVALID_TOPIC',
        'A topic must be valid UTF-8 without control characters (C0, C1, DEL) or Unicode format characters.',
      );
    }
    if (topic === '*') {
      throw new HeraldError(
        'HERALD_ERR_RESERVED_TOPIC',
        'The topic "*" is reserved: it is the wildcard that matches every topic.',
      );
    }
    if (addressesHubNamespace(topic)) {
      throw new HeraldError(
        'HERALD_ERR_RESERVED_TOPIC',
        `The topic "${topic}" is in ${HUB_PATH}/, which is reserved for what the hub publishes itself (subscription events).`,
      );
    }
  }
  if (update.type !== undefined && hasForbiddenCharacter(update.type)) {
    throw new HeraldError(
      'HERALD_ERR_INVALID_TYPE',
      'The type must not contain control characters (C0, C1, DEL) or Unicode format characters.',
    );
  }
  if (update.type === 'mercure') {
    throw new HeraldError(
      'HERALD_ERR_INVALID_TYPE',
      'The type "mercure" is reserved for the subscription events the hub publishes.',
    );
  }
}
