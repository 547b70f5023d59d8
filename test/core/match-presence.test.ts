import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { Hub } from '../../src/core/hub.ts';
import {
  matchCollectionId,
  matchSubscriptionDocument,
  matchSubscriptionEvent,
  matchSubscriptionId,
  readMatchSubscriptionEvent,
} from '../../src/core/match-subscription-events.ts';
import type { MatchSubscriptionDocument } from '../../src/core/match-subscription-events.ts';
import { Presence } from '../../src/core/presence.ts';
import { PresenceService } from '../../src/core/presence-service.ts';
import { matcherSelector } from '../../src/core/url-pattern.ts';
import { RecordingSink } from '../support/recording-sink.ts';

const HUB = 'https://hub.example.com/.well-known/mercure';
const LIMITS = {
  maxTopicsPerUpdate: 64,
  maxUpdatesPerPublish: 1000,
  maxSelectorsPerSubscription: 64,
  maxPendingBytes: 1 << 20,
};

test('a draft-08 subscription is present in both forms; a restart ends both', async () => {
  const backend = new MemoryBackend({ historySize: 100 });
  const service = new PresenceService(backend);
  const hub = new Hub(backend, { ...LIMITS, observer: service });
  const pattern = 'https://example.com/books/:id';
  const opened = await hub.subscribe({
    selectors: [],
    matchers: [
      {
        match: pattern,
        matchType: 'urlpattern',
        selector: matcherSelector(pattern, 'urlpattern', HUB),
      },
      // The same matcher twice is one subscription.
      {
        match: pattern,
        matchType: 'urlpattern',
        selector: matcherSelector(pattern, 'urlpattern', HUB),
      },
      {
        match: 'https://example.com/{x}',
        matchType: 'exact',
        selector: matcherSelector('https://example.com/{x}', 'exact', HUB),
        payload: { p: 1 },
      },
    ],
    grants: { privateSelectors: [] },
    sink: new RecordingSink(),
  });
  const subscriber = opened.subscriberId ?? '';
  const presence = service.subscriptions;
  assert.equal(presence.size, 2);
  assert.deepEqual(presence.listMatches(matchCollectionId('urlpattern', pattern)), [
    matchSubscriptionDocument('urlpattern', pattern, subscriber, true, undefined),
  ]);
  assert.deepEqual(
    presence.getMatch(
      matchCollectionId('exact', 'https://example.com/{x}'),
      matchSubscriptionId('exact', 'https://example.com/{x}', subscriber),
    )?.payload,
    { p: 1 },
  );
  // The draft-07 form, with the matcher's value as the topic.
  assert.equal(presence.list(pattern)[0]?.subscriber, subscriber);
  hub.close();

  // A new hub on the same store (a crash, then a restart): both forms are ended.
  // The memory store is this process's alone (capabilities.exclusive): what history shows
  // started and never ended was left by the run before.
  const restartedService = new PresenceService(backend);
  const restarted = new Hub(backend, { ...LIMITS, observer: restartedService });
  const restartedPresence = restartedService.subscriptions;
  const ends: MatchSubscriptionDocument[] = [];
  const unlisten = backend.onUpdate((update) => {
    const document = readMatchSubscriptionEvent(update);
    if (document !== undefined) ends.push(document);
  });
  assert.equal(await restartedService.start(), 2);
  unlisten();
  // Both draft-08 subscriptions were loaded from history and announced ended.
  assert.deepEqual(ends.map((document) => [document.match_type, document.active]).sort(), [
    ['exact', false],
    ['urlpattern', false],
  ]);
  assert.deepEqual(restartedPresence.listMatches(), []);
  assert.deepEqual(restartedPresence.list(), []);
  restarted.close();
  await restartedService.close();
  await backend.close();
});

test('draft-08 presence ignores what is not a well-formed draft-08 subscription event', () => {
  const presence = new Presence();
  const real = matchSubscriptionEvent(
    matchSubscriptionDocument('exact', 'https://example.com/a', 'urn:uuid:1', true, undefined),
  );
  let n = 0;
  const observe = (update: typeof real) => {
    presence.observe({ ...update, id: `id-${++n}` });
  };
  observe({ ...real, private: false });
  observe({ ...real, type: undefined });
  observe({ ...real, data: real.data.replace('"exact"', '"regex"') });
  observe({
    ...real,
    topics: [matchSubscriptionId('urlpattern', 'https://example.com/a', 'urn:uuid:1')],
  });
  assert.deepEqual(presence.listMatches(), []);
  observe(real);
  assert.equal(presence.listMatches().length, 1);
});
