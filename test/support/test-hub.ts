import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { fetch } from 'undici';
import { mintAccessToken, mintToken } from '../../src/auth/mint-token.ts';
import type { MintMatcher } from '../../src/auth/mint-token.ts';
import type { HeraldOptions } from '../../src/config.ts';
import type { HeraldRuntime, RunningHerald } from '../../src/herald.ts';
import { startHerald } from '../../src/herald.ts';

export const TEST_KEY = 'herald-test-key-that-is-long-enough-for-hs256';

/** The issuer of the test hub's draft-08 access tokens, signed with TEST_KEY. */
export const TEST_ISSUER = 'https://publisher.test';

/** A draft-08 topic matcher: a string is `exact` (or the `*` wildcard). */
export type TestMatcher = string | MintMatcher;

export interface TestHub {
  readonly herald: RunningHerald;
  readonly hubUrl: string;
  /** Every log line the hub wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Log lines at level error and above; a test that expects none asserts it is empty. */
  readonly internalErrors: Record<string, unknown>[];
  token(grants: { publish?: string[]; subscribe?: string[]; payload?: unknown }): Promise<string>;
  /**
   * A draft-08 access token (typ at+jwt) of TEST_ISSUER for this hub, whose
   * authorization_details grant what is asked; `payload` goes on the subscribe detail.
   */
  accessToken(grants: {
    publish?: TestMatcher[];
    subscribe?: TestMatcher[];
    payload?: Record<string, unknown>;
  }): Promise<string>;
  /** Publishes form fields with a token that may publish everywhere; returns the raw response. */
  publish(fields: Record<string, string | string[]>, token?: string): Promise<PublishResult>;
  subscribeUrl(topics: string[], query?: Record<string, string>): string;
}

export interface PublishResult {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

/**
 * Starts a real hub on port 0 (loopback) and stops it when the test ends. `runtime` adds to
 * what the hub runs with (a clock the test moves, ...); its logger is the test's own.
 */
export async function startTestHub(
  t: TestContext,
  options: Partial<HeraldOptions> = {},
  runtime: Omit<HeraldRuntime, 'logger'> = {},
): Promise<TestHub> {
  // The hub's structured logs, captured: tests read them, and internal errors among them.
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const herald = await startHerald(
    {
      publisherJwtKey: TEST_KEY,
      subscriberJwtKey: TEST_KEY,
      host: '127.0.0.1',
      port: 0,
      // Protocol tests run on the in-memory store; the SQLite store has its own tests.
      store: { kind: 'memory' },
      accessTokenIssuer: TEST_ISSUER,
      ...options,
    },
    { ...runtime, logger },
  );
  t.after(() => herald.close());
  // Tokens minted here are HS256; tests of other algorithms mint their own.
  const hmac = (options.publisherJwtAlgorithm ?? options.jwtAlgorithm ?? 'HS256').startsWith('HS');
  const key =
    hmac && typeof options.publisherJwtKey === 'string' ? options.publisherJwtKey : TEST_KEY;
  const everywhere = await mintToken({ key, algorithm: 'HS256', publish: ['*'] });
  const hubUrl = herald.hubUrl;

  return {
    herald,
    hubUrl,
    logs,
    get internalErrors() {
      return logs.filter((line) => Number(line['level']) >= 50);
    },
    token: (grants) => mintToken({ key, algorithm: 'HS256', ...grants }),
    accessToken: (grants) => {
      const matchers = (list: TestMatcher[] | undefined) =>
        list?.map((matcher) => (typeof matcher === 'string' ? { match: matcher } : matcher));
      return mintAccessToken({
        key,
        algorithm: 'HS256',
        issuer: options.accessTokenIssuer ?? TEST_ISSUER,
        audience: options.resourceIdentifier ?? hubUrl,
        ttlSeconds: 3600,
        publish: matchers(grants.publish),
        subscribe: matchers(grants.subscribe),
        payload: grants.payload,
      });
    },
    async publish(fields, token = everywhere) {
      const form = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) {
        for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
      }
      const response = await fetch(hubUrl, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
      return {
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: await response.text(),
      };
    },
    subscribeUrl(topics, query = {}) {
      const url = new URL(hubUrl);
      for (const topic of topics) url.searchParams.append('topic', topic);
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
      return url.href;
    },
  };
}
