import { setImmediate as nextTurn } from 'node:timers/promises';
import { WORK_SLICE_MS } from '../../core/work-slice.ts';
import type { HubResponse } from '../http-message.ts';

/**
 * A collection this size or smaller is answered in one piece, with a Content-Length; a larger
 * one is streamed (chunked) a slice at a time.
 */
export const STREAM_COLLECTIONS_ABOVE = 500;
/** Text a slice writes at most, so that one slice of huge documents is still a bounded write. */
const SLICE_BYTES = 64 * 1024;

/**
 * Answers 200 with `head` plus an array of `items` under `arrayKey` (the last key), as
 * `JSON.stringify(body, null, 2)` would write it, byte for byte. A large collection is never
 * built as one string: it is serialized a slice at a time (at most ~2 ms or 64 KiB each),
 * each written as soon as it is made, with the event loop going round between slices and
 * waiting for a client that reads slowly. `items` is a snapshot the caller took at once (the
 * collection's state at one moment); `toJson` turns each into what is written.
 */
export async function writeCollection<T>(
  res: HubResponse,
  headers: Readonly<Record<string, string>>,
  contentType: string,
  head: Readonly<Record<string, unknown>>,
  arrayKey: string,
  items: readonly T[],
  toJson: (item: T) => unknown,
): Promise<void> {
  const empty = JSON.stringify({ ...head, [arrayKey]: [] }, null, 2);
  if (items.length <= STREAM_COLLECTIONS_ABOVE) {
    const json = JSON.stringify({ ...head, [arrayKey]: items.map(toJson) }, null, 2);
    res.writeHead(200, {
      ...headers,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(json),
    });
    res.end(json);
    return;
  }
  // `{ …, "key": []\n}`: the items go between the brackets, each indented two levels.
  const open = empty.slice(0, empty.lastIndexOf('[]') + 1);
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  // A function, so that a check after an await is not narrowed away by the one before it.
  const gone = (): boolean => closed;
  res.writeHead(200, { ...headers, 'Content-Type': contentType });
  let chunk = open;
  let index = 0;
  while (index < items.length) {
    const ends = performance.now() + WORK_SLICE_MS;
    while (index < items.length && chunk.length < SLICE_BYTES && performance.now() < ends) {
      const item = items[index] as T;
      const text = JSON.stringify(toJson(item), null, 2).replaceAll('\n', '\n    ');
      chunk += `${index === 0 ? '' : ','}\n    ${text}`;
      index++;
    }
    if (gone()) return;
    const flowing = res.write(chunk);
    chunk = '';
    if (flowing) await nextTurn();
    else await drainedOrClosed(res);
    if (gone()) return;
  }
  res.end(`${chunk}\n  ]\n}`);
}

/** Resolves on the response's next drain, or when it closes. */
function drainedOrClosed(res: HubResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
