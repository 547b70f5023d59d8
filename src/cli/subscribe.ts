import { subscribe } from '../client/index.ts';
import type { HeraldClientError, HeraldEvent } from '../client/index.ts';
import { CommandFailure } from './command-failure.ts';
import { HUB_FLAGS, HUB_HELP, HUB_OPTIONS, parseHubOptions } from './hub-options.ts';
import { OptionError, parseFlags } from './option-reading.ts';
import { givenOptions } from './option-sources.ts';

const FLAGS = {
  ...HUB_FLAGS,
  topic: { type: 'string', multiple: true },
  match: { type: 'string', multiple: true },
  'match-urlpattern': { type: 'string', multiple: true },
  'last-event-id': { type: 'string' },
  json: { type: 'boolean' },
  count: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SUBSCRIBE_HELP = `Usage: herald subscribe (--topic <selector> | --match <topic> | …) [options]

Prints the updates a Mercure hub (Herald or any other) delivers, one per line, until Ctrl-C.
A dropped connection is resumed with Last-Event-ID, so nothing history still holds is missed.

Selectors (each repeatable):
  --topic <selector>         draft-07: a topic, a URI template or *
  --match <topic>            draft-08: a topic, compared exactly (or * for every topic)
  --match-urlpattern <pat>   draft-08: a URL Pattern, e.g. https://example.com/books/:id
Options:
  --last-event-id <id>       start after this id (earliest: all history the hub keeps)
  --json                     one JSON object per line: {"id", "type", "data"}
  --count <n>                exit after n updates
${HUB_HELP}

Without --json a line is the update's data, with each backslash written \\\\ and each line
break \\n, so a multi-line update stays on one line. Connection changes go to stderr.

Exit status: 0 on Ctrl-C, SIGTERM or after --count updates; 1 when the subscription failed
for good (an answer that is not an event stream); 2 a usage error; 3 the hub refused the
subscription (4xx such as 401 or 403: its problem detail is shown).`;

type Env = Readonly<Record<string, string | undefined>>;

export interface SubscribeIo {
  /** Writes one output line (an update). */
  readonly line: (text: string) => void;
  /** Writes one notice about the connection. */
  readonly notice: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM: the subscription ends and the command exits 0. */
  readonly stop: AbortSignal;
}

/** `herald subscribe`: prints updates until stopped; resolves when it ends cleanly. */
export async function subscribeFromArgs(
  argv: readonly string[],
  env: Env,
  io: SubscribeIo,
): Promise<'help' | 'done'> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) return 'help';
  const { hubUrl, token } = parseHubOptions(givenOptions(HUB_OPTIONS, values, env));
  const topics = values.topic ?? [];
  const match = values.match ?? [];
  const patterns = values['match-urlpattern'] ?? [];
  if (topics.length + match.length + patterns.length === 0) {
    throw new OptionError(
      `Give at least one selector: --topic, --match or --match-urlpattern.\n\n${SUBSCRIBE_HELP}`,
    );
  }
  if (topics.length > 0 && match.length + patterns.length > 0) {
    throw new OptionError(
      '--topic (draft-07) and --match/--match-urlpattern (draft-08) exclude each other: a hub refuses both in one subscription.',
    );
  }
  let remaining = Infinity;
  if (values.count !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(values.count)) {
      throw new OptionError(`--count must be a positive integer; got "${values.count}".`);
    }
    remaining = Number(values.count);
  }
  const format = values.json === true ? asJsonLine : asTextLine;

  const subscription = subscribe(hubUrl, topics, {
    match,
    match_urlpattern: patterns,
    token,
    lastEventId: values['last-event-id'],
    signal: io.stop,
  });
  subscription.onState(({ to, error, resumedAfter }) => {
    if (to === 'reconnecting') {
      const resume =
        subscription.lastEventId === '' ? '' : `, resuming after ${subscription.lastEventId}`;
      io.notice(`connection lost (${error?.message ?? 'ended'}); reconnecting${resume}`);
    } else if (to === 'open') {
      const resumed = resumedAfter === undefined ? '' : ` (the hub resumed after ${resumedAfter})`;
      io.notice(`connected to ${hubUrl.href}${resumed}`);
    }
  });
  try {
    for await (const event of subscription) {
      io.line(format(event));
      if (--remaining === 0) break;
    }
  } catch (error) {
    throw failure(error as HeraldClientError);
  }
  return 'done';
}

function failure(error: HeraldClientError): CommandFailure {
  const status = error.status;
  const code = error.problem?.code;
  const detail = `${error.message}${code === undefined ? '' : ` (${code})`}`;
  return status !== undefined && status >= 400 && status < 500
    ? new CommandFailure(`the hub refused the subscription: ${detail}`, 3)
    : new CommandFailure(`the subscription failed: ${detail}`, 1);
}

function asJsonLine(event: HeraldEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, data: event.data });
}

function asTextLine(event: HeraldEvent): string {
  return event.data.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}
