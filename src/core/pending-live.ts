import type { Position } from './backend.ts';

/** A live frame held back, and the position of its update. */
interface HeldFrame {
  readonly frame: Uint8Array;
  readonly position: Position;
}

/**
 * Live frames that arrive while a subscriber's history replays, held back to be written after
 * it, each with its update's position. Once the history read says which position it reached,
 * one comparison tells a frame the replay covers (the client had it, or the replay writes it)
 * from one that only this list holds.
 */
export class PendingLive {
  #held: HeldFrame[] = [];
  /** Bytes of the frames held. */
  #bytes = 0;
  /** The position the replay's read reached, once it is known. */
  #reached: Position | undefined;

  get bytes(): number {
    return this.#bytes;
  }

  /** Holds a live frame back, unless the replay's read is known to cover its position. */
  hold(frame: Uint8Array, position: Position): void {
    if (this.#reached !== undefined && position <= this.#reached) return;
    this.#held.push({ frame, position });
    this.#bytes += frame.byteLength;
  }

  /** The replay's read reached `position`: drops the frames at or before it, now and later. */
  coverThrough(position: Position): void {
    this.#reached = position;
    this.#held = this.#held.filter((held) => held.position > position);
    this.#bytes = 0;
    for (const { frame } of this.#held) this.#bytes += frame.byteLength;
  }

  /** The frames the replay does not cover, in the order they arrived. */
  frames(): Uint8Array[] {
    return this.#held.map((held) => held.frame);
  }
}
