/**
 * Paces history replays so that a resume storm (every client of a restarted node coming back
 * with `Last-Event-ID`) never holds the event loop for long, and bounds how many run at once.
 *
 * - At most `maxConcurrent` replays hold a slot; the others wait for one in arrival order. A
 *   replay waiting for a slow client's socket to drain gives its slot back meanwhile, so clients
 *   that do not read cannot hold every slot.
 * - A replay works for at most `sliceMs` at a time, then waits for its next turn. One replay's
 *   slice runs per turn of the event loop, whoever's turn it is: between two slices Node reads
 *   the sockets (health checks, publishes), however many replays are running.
 */
export class ReplayScheduler {
  readonly maxConcurrent: number;
  readonly sliceMs: number;
  #active = 0;
  /** Replays waiting for a slot, first come first served. */
  readonly #waitingForSlot: (() => void)[] = [];
  #slotHead = 0;
  /** Slot holders waiting for their next slice. */
  #waitingForTurn: (() => void)[] = [];
  #turnHead = 0;
  #turnScheduled = false;

  constructor(options: { readonly maxConcurrent: number; readonly sliceMs: number }) {
    this.maxConcurrent = options.maxConcurrent;
    this.sliceMs = options.sliceMs;
  }

  /** Replays holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Replays waiting for a slot now. */
  get waiting(): number {
    return this.#waitingForSlot.length - this.#slotHead;
  }

  /** Resolves with a slot once fewer than `maxConcurrent` replays hold one. */
  async acquireSlot(): Promise<ReplaySlot> {
    await this.acquire();
    return new ReplaySlot(this);
  }

  /** @internal Resolves once a slot is taken on the caller's behalf. */
  async acquire(): Promise<void> {
    if (this.#active < this.maxConcurrent && this.waiting === 0) {
      this.#active++;
    } else {
      // The slot is handed over by `release`, counted as taken on the waiter's behalf.
      await new Promise<void>((resolve) => {
        this.#waitingForSlot.push(resolve);
      });
    }
  }

  /** @internal Called by a slot once. */
  release(): void {
    const next = this.#waitingForSlot[this.#slotHead];
    if (next === undefined) {
      this.#active--;
      return;
    }
    this.#waitingForSlot[this.#slotHead] = noop;
    this.#slotHead++;
    if (this.#slotHead > 1024 && this.#slotHead * 2 > this.#waitingForSlot.length) {
      this.#waitingForSlot.splice(0, this.#slotHead);
      this.#slotHead = 0;
    }
    next();
  }

  /** @internal Resolves on a later turn of the event loop, one slot holder per turn. */
  nextTurn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waitingForTurn.push(resolve);
      if (!this.#turnScheduled) {
        this.#turnScheduled = true;
        setImmediate(this.#giveTurn);
      }
    });
  }

  readonly #giveTurn = (): void => {
    const next = this.#waitingForTurn[this.#turnHead];
    this.#turnHead++;
    if (this.#turnHead >= this.#waitingForTurn.length) {
      this.#waitingForTurn = [];
      this.#turnHead = 0;
      this.#turnScheduled = false;
    } else {
      // Queued from inside the check phase: it runs on the next turn, after Node polled I/O.
      setImmediate(this.#giveTurn);
    }
    // The replay's slice runs in the microtasks right after this callback.
    next?.();
  };
}

function noop(): void {}

/** One replay's right to run: its slices, and the slot it gives back when done. */
export class ReplaySlot {
  readonly #scheduler: ReplayScheduler;
  /** `held`: counts against the limit; `away`: given back while waiting; `done`: released. */
  #state: 'held' | 'away' | 'done' = 'held';
  #sliceStart = performance.now();

  constructor(scheduler: ReplayScheduler) {
    this.#scheduler = scheduler;
  }

  /** Whether the slot was given back for good: the replay must stop. */
  get released(): boolean {
    return this.#state === 'done';
  }

  /** Whether this slice has run its time: the replay should `yield` before going on. */
  get sliceSpent(): boolean {
    return performance.now() - this.#sliceStart >= this.#scheduler.sliceMs;
  }

  /** Waits for this replay's next turn; the slice starts then. */
  async yield(): Promise<void> {
    await this.#scheduler.nextTurn();
    this.#sliceStart = performance.now();
  }

  /** Gives the slot back while waiting for `wait` (a slow socket), then waits for one again. */
  async releaseWhile(wait: Promise<void>): Promise<void> {
    if (this.#state !== 'held') return;
    this.#state = 'away';
    this.#scheduler.release();
    await wait;
    await this.#scheduler.acquire();
    // Released meanwhile (the stream ended): the slot just taken goes straight back.
    // (Read again through a method: `release()` may have run while this waited.)
    if (this.#currentState() === 'done') {
      this.#scheduler.release();
      return;
    }
    this.#state = 'held';
    this.#sliceStart = performance.now();
  }

  #currentState(): 'held' | 'away' | 'done' {
    return this.#state;
  }

  /** Gives the slot back; once. */
  release(): void {
    if (this.#state === 'held') this.#scheduler.release();
    this.#state = 'done';
  }
}
