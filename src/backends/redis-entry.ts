import type { Position } from '../core/backend.ts';
import type { NewUpdate, Update } from '../core/update.ts';

/*
 * How an update is laid out in a Redis Stream entry: short field names, optional fields left
 * out when absent (an empty type or a retry of 0 are values and are kept).
 */
const TOPICS = 't';
const DATA = 'd';
const PRIVATE = 'p';
const GIVEN_ID = 'i';
const TYPE = 'e';
const RETRY = 'r';

/** A stream id as Redis issues them: milliseconds, a dash, a sequence number. */
export const STREAM_ID_SHAPE = /^([0-9]+)-([0-9]+)$/;

// Both halves of a stream id are unsigned 64-bit integers: at most 20 digits.
const SEQUENCE_DIGITS = 20;
// Milliseconds have 13 digits from 2001 to 2286.
const TIME_DIGITS = 13;

/**
 * The id an update stored without a publisher id is known by: its stream id, zero-padded so
 * that ids sort as strings in the order Redis issued them (`…-9` would otherwise sort after
 * `…-10`), which every Herald store promises.
 */
export function wireIdOf(streamId: string): string {
  const match = STREAM_ID_SHAPE.exec(streamId);
  if (match === null) throw new Error(`not a stream id: ${streamId}`);
  const [, time = '', sequence = ''] = match;
  return `${time.padStart(TIME_DIGITS, '0')}-${sequence.padStart(SEQUENCE_DIGITS, '0')}`;
}

/** The stream id a wire id names (padded or not), or `undefined` if it cannot name one. */
export function streamIdOf(wireId: string): string | undefined {
  const match = STREAM_ID_SHAPE.exec(wireId);
  if (match === null) return undefined;
  const [time, sequence] = [trimZeros(match[1] ?? ''), trimZeros(match[2] ?? '')];
  if (time.length > SEQUENCE_DIGITS || sequence.length > SEQUENCE_DIGITS) return undefined;
  if (BigInt(time) >= 1n << 64n || BigInt(sequence) >= 1n << 64n) return undefined;
  return `${time}-${sequence}`;
}

/** Orders two stream ids as Redis does (numerically, time first). */
export function compareStreamIds(a: string, b: string): number {
  const [aTime = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bTime = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aTime !== bTime) return aTime < bTime ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/**
 * A stream id as one position: its milliseconds above its sequence number, each half an
 * unsigned 64-bit integer, so that positions order as Redis orders stream ids.
 */
export function positionOf(streamId: string): Position {
  const match = STREAM_ID_SHAPE.exec(streamId);
  if (match === null) throw new Error(`not a stream id: ${streamId}`);
  return (BigInt(match[1] ?? '') << 64n) | BigInt(match[2] ?? '');
}

function trimZeros(digits: string): string {
  return digits.replace(/^0+(?=.)/, '');
}

/** The field/value list XADD stores for an update. */
export function encodeEntry(update: NewUpdate): string[] {
  const fields = [TOPICS, JSON.stringify(update.topics), DATA, update.data];
  if (update.private) fields.push(PRIVATE, '1');
  if (update.id !== undefined) fields.push(GIVEN_ID, update.id);
  if (update.type !== undefined) fields.push(TYPE, update.type);
  if (update.retry !== undefined) fields.push(RETRY, String(update.retry));
  return fields;
}

/** The update a stream entry holds. */
export function decodeEntry(streamId: string, fields: readonly string[]): Update {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] ?? '', fields[i + 1] ?? '');
  const type = values.get(TYPE);
  const retry = values.get(RETRY);
  return {
    id: values.get(GIVEN_ID) ?? wireIdOf(streamId),
    topics: JSON.parse(values.get(TOPICS) ?? '[]') as string[],
    data: values.get(DATA) ?? '',
    private: values.get(PRIVATE) === '1',
    ...(type === undefined ? {} : { type }),
    ...(retry === undefined ? {} : { retry: Number(retry) }),
  };
}
