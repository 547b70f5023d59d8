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

// CR and LF would end the SSE line and let a publisher inject fields; NUL makes clients drop the id.
const LINE_BREAK_OR_NUL = /[\r\n\0]/;
const DIGITS = /^[0-9]+$/;

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
    if (LINE_BREAK_OR_NUL.test(update.id)) {
      throw new HeraldError('HERALD_ERR_INVALID_ID', 'The id must not contain CR, LF or NUL.');
    }
  }
  if (update.type !== undefined && LINE_BREAK_OR_NUL.test(update.type)) {
    throw new HeraldError('HERALD_ERR_INVALID_TYPE', 'The type must not contain CR, LF or NUL.');
  }
  if (update.retry !== undefined && (!Number.isSafeInteger(update.retry) || update.retry < 0)) {
    throw new HeraldError('HERALD_ERR_INVALID_RETRY', 'The retry must be a non-negative integer.');
  }
  checkPublishedUpdate(update);
  return update;
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
