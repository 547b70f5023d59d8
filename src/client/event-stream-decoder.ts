import type { EventSourceParser } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';

/** One dispatched event, as the stream framed it. */
export interface DecodedEvent {
  /** The `event` field; `undefined` when absent or empty (EventSource then says `message`). */
  readonly type: string | undefined;
  readonly data: string;
}

export interface DecoderCallbacks {
  readonly onEvent: (event: DecodedEvent) => void;
  /**
   * An event block set the last event id (an `id` holding NUL is ignored, as WHATWG says), with
   * or without data; called before that block's event.
   */
  readonly onId: (id: string) => void;
  /** A valid `retry` field (ASCII digits only); bogus values are ignored, as WHATWG says. */
  readonly onRetry: (milliseconds: number) => void;
}

export interface EventStreamDecoder {
  /** Decodes the next bytes; returns `false` once a line or an event passed the buffer limit. */
  feed(bytes: Uint8Array): boolean;
  /** The stream ended: bytes of a partial character are flushed, an unterminated event dropped. */
  end(): void;
}

/**
 * Bytes of a `text/event-stream` in, events out: UTF-8 decoding (a leading BOM removed, bad
 * sequences replaced, as WHATWG requires), then eventsource-parser (4.x: CR, LF and CRLF split
 * across chunks, and `id` fields in events without data, as WHATWG says), with two corrections
 * made at its edges:
 *
 * - eventsource-parser removes a leading BOM from the text it is fed, as U+FEFF or as the three
 *   characters `ï»¿` (a BOM's bytes read as Latin-1). Once TextDecoder has run, the real BOM is
 *   already gone, and what starts the text is data: a second U+FEFF, or the characters `ï»¿`. A
 *   first feed of one line break (a blank line, which dispatches nothing before any field) ends
 *   that check before the stream's own text arrives. (An empty first feed no longer does.)
 * - Its `maxBufferSize` bounds what it buffers (partial lines and event data, line by line), but
 *   an event of one `data` line that arrives whole in one chunk is dispatched without that check.
 *   The size of each event's data is checked here too, so the limit holds however the bytes are
 *   chunked; the events before the offending one are still delivered (as undici's EventSource
 *   does with its `maxEventSize`).
 */
export function createEventStreamDecoder(
  callbacks: DecoderCallbacks,
  maxBufferSize: number | null,
): EventStreamDecoder {
  const decoder = new TextDecoder('utf-8');
  let overflowed = false;
  // The parser reports a block's id just before that block's event: it is held until the event
  // passes the size check (an event refused for its size does not move the last event id), or
  // until the parser moves on (a block with an id and no data).
  let heldId: string | undefined;
  const releaseHeldId = (): void => {
    if (heldId !== undefined && !overflowed) callbacks.onId(heldId);
    heldId = undefined;
  };
  const parser: EventSourceParser = createParser({
    onEvent: (message) => {
      if (overflowed) return;
      // The parser does not check an event of one data line that arrived whole in one chunk, so
      // the size of each event's data is checked here.
      if (maxBufferSize !== null && message.data.length > maxBufferSize) {
        overflowed = true;
        return;
      }
      releaseHeldId();
      callbacks.onEvent({ type: message.event, data: message.data });
    },
    onId: (id) => {
      releaseHeldId();
      heldId = id;
    },
    onRetry: callbacks.onRetry,
    onError: (error) => {
      // Unknown fields and bogus retries are ignored, as EventSource does; only the limit counts.
      if (error.type === 'max-buffer-size-exceeded') overflowed = true;
    },
    maxBufferSize: maxBufferSize ?? undefined,
  });
  parser.feed('\n');

  const feedText = (text: string): void => {
    if (text !== '' && !overflowed) parser.feed(text);
    releaseHeldId();
  };

  return {
    feed(bytes) {
      feedText(decoder.decode(bytes, { stream: true }));
      return !overflowed;
    },
    end() {
      feedText(decoder.decode());
    },
  };
}
