import type { EventSourceParser } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';

/** One dispatched event, as the stream framed it. */
export interface DecodedEvent {
  /** The `event` field; `undefined` when absent or empty (EventSource then says `message`). */
  readonly type: string | undefined;
  readonly data: string;
  /** The `id` field when this event set one (an `id` holding NUL is ignored, as WHATWG says). */
  readonly id: string | undefined;
}

export interface DecoderCallbacks {
  readonly onEvent: (event: DecodedEvent) => void;
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
 * sequences replaced, as WHATWG requires), then eventsource-parser, with three corrections made
 * at its edges:
 *
 * - eventsource-parser looks for a BOM as the three characters `ï»¿` of the first string it is
 *   fed, which can only be text, never a BOM, once TextDecoder has run (it already removed the
 *   real one, U+FEFF). An empty first feed turns that check off.
 * - A chunk that ends in CR leaves eventsource-parser waiting for a possible LF, so an event
 *   framed with CR line endings would sit in its buffer until more bytes came, and be lost if the
 *   stream ended there. A trailing CR is fed as CRLF at once and a LF that then opens the next
 *   chunk is dropped: the same line breaks, without the wait.
 * - Its `maxBufferSize` is checked once per feed, on what stays buffered: a long line or a large
 *   event that arrives whole in one chunk would pass. Lines and event data are measured here, so
 *   the limit holds however the bytes are chunked; the events before the offending line or event
 *   are still delivered (as undici's EventSource does with its `maxEventSize`).
 *
 * One difference from WHATWG remains: an event with an `id` but no `data` is not dispatched by
 * eventsource-parser, and the id it carries is lost, where EventSource keeps it as the last event
 * id. Herald never sends such an event (every frame has a `data` line).
 */
export function createEventStreamDecoder(
  callbacks: DecoderCallbacks,
  maxBufferSize: number | null,
): EventStreamDecoder {
  const decoder = new TextDecoder('utf-8');
  let overflowed = false;
  let dropLeadingLineFeed = false;
  const parser: EventSourceParser = createParser({
    onEvent: (message) => {
      if (overflowed) return;
      // The parser checks its limit once per feed: an event that arrives whole in one chunk
      // would pass it, so the size of each event's data is checked here too.
      if (maxBufferSize !== null && message.data.length > maxBufferSize) {
        overflowed = true;
        return;
      }
      callbacks.onEvent({ type: message.event, data: message.data, id: message.id });
    },
    onRetry: callbacks.onRetry,
    onError: (error) => {
      // Unknown fields and bogus retries are ignored, as EventSource does; only the limit counts.
      if (error.type === 'max-buffer-size-exceeded') overflowed = true;
    },
    maxBufferSize: maxBufferSize ?? undefined,
  });
  parser.feed('');

  // Characters of the line under way: for the same reason, lines are measured here.
  let lineLength = 0;
  /** Where, in `text`, the first line longer than the limit starts; -1 when none is. */
  const overlongLineStart = (text: string): number => {
    if (maxBufferSize === null) return -1;
    let start = 0;
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) {
        lineLength += text.length - start;
        return lineLength > maxBufferSize ? start : -1;
      }
      if (lineLength + end - start > maxBufferSize) return start;
      lineLength = 0;
      start = end + 1;
    }
  };

  const feedParser = (text: string): void => {
    if (text === '' || overflowed) return;
    if (dropLeadingLineFeed) {
      dropLeadingLineFeed = false;
      if (text.startsWith('\n')) text = text.slice(1);
      if (text === '') return;
    }
    dropLeadingLineFeed = text.endsWith('\r');
    parser.feed(dropLeadingLineFeed ? `${text}\n` : text);
  };

  const feedText = (text: string): void => {
    if (overflowed) return;
    const overlong = overlongLineStart(text);
    if (overlong === -1) {
      feedParser(text);
      return;
    }
    // The events before the long line are delivered, as EventSource would, then it stops.
    feedParser(text.slice(0, overlong));
    overflowed = true;
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
