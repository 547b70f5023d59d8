import type { FrameSink } from '../../src/core/subscriber.ts';

/**
 * A hub subscriber's connection for tests of core/: keeps every frame it is given, with its
 * `id:` and `data:` lines, and is always ready for more (no backpressure).
 */
export class RecordingSink implements FrameSink {
  /** Each frame written, as text. */
  readonly frames: string[] = [];
  /** The `id:` of each frame written, in order (`(none)` for a frame without one). */
  readonly ids: string[] = [];
  /** The first `data:` line of each frame written, in order (`(none)` for a frame without one). */
  readonly data: string[] = [];
  closed = false;
  /** Called after each frame is kept. */
  onFrame: (() => void) | undefined;

  write(frame: Uint8Array): boolean {
    const text = Buffer.from(frame).toString('utf8');
    this.frames.push(text);
    this.ids.push(/^id: (.*)$/m.exec(text)?.[1] ?? '(none)');
    this.data.push(/^data: (.*)$/m.exec(text)?.[1] ?? '(none)');
    this.onFrame?.();
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
  }
}
