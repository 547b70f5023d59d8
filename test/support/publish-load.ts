import type { TestHub } from './test-hub.ts';

/** One publish of a load run: who sent it, through which node, in which phase, and the answer. */
export interface LoadOutcome<Phase extends string> {
  readonly publisher: number;
  /** The index in `nodes` of the node it was sent to. */
  readonly node: number;
  readonly data: string;
  /** The phase the run was in when it was sent. */
  readonly phase: Phase;
  readonly status: number;
  /** The answer's body: the update's id on a 200, a problem document otherwise. */
  readonly body: string;
  /** When the answer came (Date.now()). */
  readonly at: number;
}

export interface PublishLoad<Phase extends string> {
  /** Every answer so far, in the order they came. */
  readonly outcomes: readonly LoadOutcome<Phase>[];
  /** The phase publishes sent from now on are recorded in. */
  phase: Phase;
  /** How many publishes sent in `phase` were acknowledged (200). */
  readonly acked: (phase: Phase) => number;
  /** Stops every publisher and resolves once each has had its last answer. */
  readonly stop: () => Promise<void>;
}

export interface PublishLoadOptions<Phase extends string> {
  readonly publishers: number;
  readonly topic: string;
  /** The phase the run starts in. */
  readonly phase: Phase;
  /** Which node publisher `publisher` sends its `n`th publish to (default: its own, round-robin). */
  readonly node?: (publisher: number, n: number) => number;
}

// A refusal comes back at once: a publisher pauses this long after one rather than spin.
const PAUSE_AFTER_REFUSAL_MS = 20;

/**
 * Publishers under load, as the Redis outage and failover tests run them: each publishes
 * `p<publisher>-<n>` to `topic`, one publish at a time, through the hubs in `nodes`, and every
 * answer is recorded with the phase it was sent in, until `stop()`.
 */
export function startPublishLoad<Phase extends string>(
  nodes: readonly TestHub[],
  options: PublishLoadOptions<Phase>,
): PublishLoad<Phase> {
  const outcomes: LoadOutcome<Phase>[] = [];
  const pick = options.node ?? ((publisher: number) => publisher % nodes.length);
  let stopping = false;
  const load = {
    outcomes,
    phase: options.phase,
    acked: (phase: Phase) => outcomes.filter((o) => o.phase === phase && o.status === 200).length,
    stop: async () => {
      stopping = true;
      await Promise.all(running);
    },
  };
  const running = Array.from({ length: options.publishers }, async (_, publisher) => {
    for (let n = 0; !stopping; n++) {
      const data = `p${publisher}-${n}`;
      const phase = load.phase;
      const node = pick(publisher, n) % nodes.length;
      const hub = nodes[node];
      if (hub === undefined) throw new Error(`no node ${node}`);
      const { status, body } = await hub.publish({ topic: options.topic, data });
      outcomes.push({ publisher, node, data, phase, status, body, at: Date.now() });
      if (status !== 200) {
        await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_REFUSAL_MS));
      }
    }
  });
  return load;
}
