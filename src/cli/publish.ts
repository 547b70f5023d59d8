import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { CommandFailure } from './command-failure.ts';
import {
  describeRefusal,
  HUB_FLAGS,
  HUB_HELP,
  HUB_OPTIONS,
  parseHubOptions,
} from './hub-options.ts';
import { OptionError, parseFlags } from './option-reading.ts';
import { givenOptions } from './option-sources.ts';

const FLAGS = {
  ...HUB_FLAGS,
  topic: { type: 'string', multiple: true },
  data: { type: 'string' },
  'data-file': { type: 'string' },
  id: { type: 'string' },
  type: { type: 'string' },
  private: { type: 'boolean' },
  retry: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const PUBLISH_HELP = `Usage: herald publish --topic <topic> [options]

Publishes one update to a Mercure hub (Herald or any other) and prints its id.

  --topic <topic>            the update's topic; repeat it for alternate topics (the first
                             is canonical)
  --data <text>              the data
  --data-file <file>         read the data from a file; - reads standard input
  --id <id>                  the update's id (the hub assigns one otherwise)
  --type <type>              the SSE event type
  --private                  deliver only to subscribers authorized for a topic
  --retry <ms>               the reconnection time subscribers should use
${HUB_HELP}

The update is sent as a form (application/x-www-form-urlencoded), as every Mercure hub accepts.

Exit status: 0 published (the id is printed); 1 no answer, or the hub failed (5xx);
2 a usage error; 3 the hub refused the update (4xx: its problem detail is shown).`;

/** How long a publish may take before it counts as no answer. */
const PUBLISH_TIMEOUT_MS = 30_000;

type Env = Readonly<Record<string, string | undefined>>;

/** `herald publish`: publishes, resolves with the id the hub assigned (or 'help'). */
export async function publishFromArgs(
  argv: readonly string[],
  env: Env,
  stdin: NodeJS.ReadableStream,
): Promise<string> {
  const values = parseFlags(argv, FLAGS);
  if (values.help === true) return 'help';
  const { hubUrl, token } = parseHubOptions(givenOptions(HUB_OPTIONS, values, env));
  const topics = values.topic ?? [];
  if (topics.length === 0) {
    throw new OptionError(`--topic is required: the topic to publish to.\n\n${PUBLISH_HELP}`);
  }
  if (values.data !== undefined && values['data-file'] !== undefined) {
    throw new OptionError('--data and --data-file exclude each other: give the data once.');
  }
  if (values.retry !== undefined && !/^[0-9]{1,9}$/.test(values.retry)) {
    throw new OptionError(`--retry must be a number of milliseconds; got "${values.retry}".`);
  }
  const data = values.data ?? (await readData(values['data-file'], stdin));

  const form = new URLSearchParams();
  for (const topic of topics) form.append('topic', topic);
  if (data !== undefined) form.append('data', data);
  if (values.id !== undefined) form.append('id', values.id);
  if (values.type !== undefined) form.append('type', values.type);
  if (values.private === true) form.append('private', 'on');
  if (values.retry !== undefined) form.append('retry', values.retry);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;

  let response: Response;
  let body: string;
  try {
    response = await fetch(hubUrl, {
      method: 'POST',
      headers,
      body: form,
      signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS),
    });
    body = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new CommandFailure(
      `no answer from ${hubUrl.href}: ${cause ?? (error as Error).message}`,
      1,
    );
  }
  if (response.status !== 200) {
    const reason = describeRefusal(
      response.status,
      response.statusText,
      body,
      response.headers.get('content-type') ?? '',
    );
    const hint =
      token === undefined && (response.status === 401 || response.status === 403)
        ? ' No token was given: pass --token or set HERALD_TOKEN.'
        : '';
    throw response.status >= 500
      ? new CommandFailure(`the hub failed to publish: ${reason}`, 1)
      : new CommandFailure(`the hub refused the update: ${reason.replace(/\.$/, '')}.${hint}`, 3);
  }
  return body.trim();
}

async function readData(
  file: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<string | undefined> {
  if (file === undefined) return undefined;
  if (file === '-') return text(stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new OptionError(`--data-file cannot be read: ${(error as Error).message}`);
  }
}
