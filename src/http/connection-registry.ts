import { COMMENT_FRAME } from '../core/sse-frame.ts';
import type { SseConnection } from './sse-connection.ts';

/**
 * Every open event stream of this process. One timer writes the heartbeat comment to all of
 * them (not one timer per connection), and shutdown ends them all at once.
 */
export class ConnectionRegistry {
  readonly #connections = new Set<SseConnection>();
  readonly #timer: NodeJS.Timeout | undefined;
  /** Connections dropped because their unsent bytes passed the cap. */
  droppedSlowConsumers = 0;

  constructor(heartbeatMs: number | null) {
    if (heartbeatMs !== null) {
      this.#timer = setInterval(() => {
        for (const connection of this.#connections) connection.write(COMMENT_FRAME);
      }, heartbeatMs);
      // The heartbeat alone must not keep the process alive.
      this.#timer.unref();
    }
  }

  get size(): number {
    return this.#connections.size;
  }

  add(connection: SseConnection): void {
    this.#connections.add(connection);
  }

  delete(connection: SseConnection): void {
    this.#connections.delete(connection);
  }

  /** Ends every stream; clients reconnect (elsewhere, or here once the hub is back). */
  closeAll(): void {
    clearInterval(this.#timer);
    for (const connection of this.#connections) connection.close();
    this.#connections.clear();
  }
}
