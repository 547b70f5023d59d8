import { HeraldError } from '../../core/errors.ts';
import type { NewUpdate } from '../../core/update.ts';
import { parseRetry } from '../../core/update.ts';

/**
 * Turns a publish request body into updates. Two encodings are accepted: Mercure's form
 * (`application/x-www-form-urlencoded`) and Herald's JSON extension, which may carry a batch.
 */
export function parsePublishBody(contentType: string | undefined, body: Buffer): NewUpdate[] {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') {
    return [parseForm(new URLSearchParams(body.toString('utf8')))];
  }
  if (mediaType === 'application/json') return parseJson(body.toString('utf8'));
  throw new HeraldError(
    'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
    'Publish with Content-Type application/x-www-form-urlencoded or application/json.',
  );
}

/** Mercure's form: empty `id`, `type` and `retry` count as absent, as in the reference hub. */
function parseForm(form: URLSearchParams): NewUpdate {
  const nonEmpty = (name: string): string | undefined => form.get(name) || undefined;
  const retry = nonEmpty('retry');
  return {
    topics: form.getAll('topic'),
    data: form.get('data') ?? '',
    private: form.has('private'),
    id: nonEmpty('id'),
    type: nonEmpty('type'),
    retry: retry === undefined ? undefined : parseRetry(retry),
  };
}

const JSON_FIELDS = new Set(['topic', 'data', 'private', 'id', 'type', 'retry']);

function parseJson(text: string): NewUpdate[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HeraldError('HERALD_ERR_MALFORMED_BODY', 'The body is not valid JSON.', {
      cause: error,
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => jsonUpdate(item, `[${index}]`));
  return [jsonUpdate(value, '')];
}

function jsonUpdate(value: unknown, where: string): NewUpdate {
  const at = where === '' ? 'The update' : `The update at ${where}`;
  const malformed = (detail: string) =>
    new HeraldError('HERALD_ERR_MALFORMED_BODY', `${at} ${detail}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('must be a JSON object.');
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!JSON_FIELDS.has(key)) throw malformed(`has an unknown field "${key}".`);
  }
  const { topic, data, id, type, retry } = fields;
  const topics = typeof topic === 'string' ? [topic] : topic;
  if (topics === undefined) {
    throw new HeraldError('HERALD_ERR_MISSING_TOPIC', `${at} needs a "topic".`);
  }
  if (!Array.isArray(topics) || !topics.every((item) => typeof item === 'string')) {
    throw malformed('has a "topic" that is neither a string nor an array of strings.');
  }
  const optionalString = (name: string, field: unknown): string | undefined => {
    if (field === undefined || typeof field === 'string') return field;
    throw malformed(`has a "${name}" that is not a string.`);
  };
  if (retry !== undefined && typeof retry !== 'number') {
    throw new HeraldError('HERALD_ERR_INVALID_RETRY', `${at} has a "retry" that is not a number.`);
  }
  if (fields['private'] !== undefined && typeof fields['private'] !== 'boolean') {
    throw malformed('has a "private" that is not a boolean.');
  }
  return {
    topics,
    data: optionalString('data', data) ?? '',
    private: fields['private'] === true,
    id: optionalString('id', id),
    type: optionalString('type', type),
    retry,
  };
}
