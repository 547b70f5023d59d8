import { HeraldError } from './errors.ts';
import { checkPublishedUpdate } from './reserved-namespace.ts';

/** An update as a publisher hands it to the hub, before the backend stores it. */
export interface NewUpdate {
  /** The canonical topic first, then alternates; the update reaches subscribers of any. */
  readonly topics: readonly string[];
  readonly data: string;
  /** Private updates reach only subscribers whose subscribe grants cover one of `topics`. */
  readonly private: boolean;
  /** Chosen by the publisher; when absent the backend assigns one. */
  readonly id?: string | undefined;
  /** Becomes the SSE `event` field. */
  readonly type?: string | undefined;
  /** Becomes the SSE `retry` field, in milliseconds. */
  readonly retry?: number | undefined;
}

/** An update as stored: it always has an id. */
export interface Update extends NewUpdate {
  readonly id: string;
}

/** Limits that every publish path enforces. */
export interface UpdateLimits {
  readonly maxTopicsPerUpdate: number;
}

/*
 * An id must come back: a client resumes by sending it in a `Last-Event-ID` header (or query
 * parameter), so an id is refused at publish unless it survives an SSE `id:` line and an HTTP
 * header unchanged. Control characters (C0 with CR, LF, NUL and TAB; DEL; C1) end the SSE line,
 * make clients drop the id, or cannot be a header value; a lone surrogate has no UTF-8 form;
 * HTTP trims leading and trailing whitespace off a header value; and a header is bounded.
 */
const CONTROL_OR_LONE_SURROGATE = /[\p{Cc}\p{Cs}]/u;
const EDGE_WHITESPACE = /^\s|\s$/u;
/** The longest id, in UTF-8 bytes: far below any header size limit on the way back. */
export const MAX_ID_BYTES = 1024;
const DIGITS = /^[0-9]+$/;
const utf8 = new TextEncoder();

/**
 * Checks an update the way the wire format needs it, and returns it with normalized fields.
 * Throws a HeraldError naming the first problem found.
 */
export function validateNewUpdate(update: NewUpdate, limits: UpdateLimits): NewUpdate {
  if (update.topics.length === 0 || update.topics.some((topic) => topic === '')) {
    throw new HeraldError(
      'HERALD_ERR_MISSING_TOPIC',
      'An update needs at least one non-empty topic.',
    );
  }
  if (update.topics.length > limits.maxTopicsPerUpdate) {
    throw new HeraldError(
      'HERALD_ERR_TOO_MANY_TOPICS',
      `An update may have at most ${limits.maxTopicsPerUpdate} topics; this one has ${update.topics.length}.`,
    );
  }
  if (update.id !== undefined) {
    if (update.id === '') {
      throw new HeraldError('HERALD_ERR_INVALID_ID', 'The id must not be empty.');
    }
    if (update.id === 'earliest') {
      throw new HeraldError(
        'HERALD_ERR_INVALID_ID',
        'The id "earliest" is reserved: it asks a hub for all of its history.',
      );
    }
    if (update.id.startsWith('#')) {
      throw new HeraldError('HERALD_ERR_INVALID_ID', 'The id must not start with "#".');
    }
    const problem = unresumable(update.id);
    if (problem !== undefined) {
      throw new HeraldError(
        'HERALD_ERR_INVALID_ID',
        `The id ${problem}: a client could not resume from it with Last-Event-ID.`,
      );
    }
  }
  // The type goes out on an SSE `event:` line: the same characters would break or change it.
  if (update.type !== undefined && CONTROL_OR_LONE_SURROGATE.test(update.type)) {
    throw new HeraldError(
      'HERALD_ERR_INVALID_TYPE',
      'The type must not contain control characters (C0, DEL, C1) or lone surrogates.',
    );
  }
  if (update.retry !== undefined && (!Number.isSafeInteger(update.retry) || update.retry < 0)) {
    throw new HeraldError('HERALD_ERR_INVALID_RETRY', 'The retry must be a non-negative integer.');
  }
  checkPublishedUpdate(update);
  return update;
}

/** Why an id cannot be resumed from, or `undefined` when it can. */
export function unresumable(id: string): string | undefined {
  if (CONTROL_OR_LONE_SURROGATE.test(id)) {
    return 'must not contain control characters (C0 such as CR, LF, NUL and TAB; DEL; C1) or lone surrogates';
  }
  if (EDGE_WHITESPACE.test(id)) return 'must not start or end with whitespace';
  if (utf8.encode(id).byteLength > MAX_ID_BYTES) {
    return `must be at most ${MAX_ID_BYTES} bytes long in UTF-8`;
  }
  return undefined;
}

/** Parses a `retry` field as sent in a form: ASCII digits only. */
export function parseRetry(value: string): number {
  const retry = Number(value);
  if (!DIGITS.test(value) || !Number.isSafeInteger(retry)) {
    throw new HeraldError(
      'HERALD_ERR_INVALID_RETRY',
      'The retry must be ASCII digits only (milliseconds).',
    );
  }
  return retry;
}
