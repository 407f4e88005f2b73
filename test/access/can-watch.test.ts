import { describe, expect, it } from 'vitest';

import { canWatch, type AccessDecision } from '../../src/access/can-watch.js';

const now = new Date('2026-12-04T12:00:00.000Z');
const subscriber = { id: 'u1', isAdmin: false };
const admin = { id: 'a1', isAdmin: true };
const published = { published: true };
const draft = { published: false };
const active = { active: true, endsAt: null };

const cases: Array<[string, Parameters<typeof canWatch>, AccessDecision]> = [
  ['anonymous', [undefined, undefined, published, now], { allowed: false, reason: 'not-logged-in' }],
  ['anonymous with a subscription object', [undefined, active, published, now], { allowed: false, reason: 'not-logged-in' }],
  ['user without subscription', [subscriber, undefined, published, now], { allowed: false, reason: 'no-subscription' }],
  ['inactive subscription', [subscriber, { active: false, endsAt: null }, published, now], { allowed: false, reason: 'subscription-inactive' }],
  ['active, no end date', [subscriber, active, published, now], { allowed: true, reason: 'subscriber' }],
  ['active, ends later', [subscriber, { active: true, endsAt: new Date('2026-12-04T12:00:00.001Z') }, published, now], { allowed: true, reason: 'subscriber' }],
  ['active, ends exactly now', [subscriber, { active: true, endsAt: now }, published, now], { allowed: false, reason: 'subscription-ended' }],
  ['active, ended yesterday', [subscriber, { active: true, endsAt: new Date('2026-12-03T00:00:00Z') }, published, now], { allowed: false, reason: 'subscription-ended' }],
  ['inactive and ended', [subscriber, { active: false, endsAt: new Date('2026-12-03T00:00:00Z') }, published, now], { allowed: false, reason: 'subscription-inactive' }],
  ['subscriber, draft video', [subscriber, active, draft, now], { allowed: false, reason: 'video-unpublished' }],
  ['admin without subscription', [admin, undefined, published, now], { allowed: true, reason: 'admin' }],
  ['admin, draft video', [admin, undefined, draft, now], { allowed: true, reason: 'admin' }],
];

describe('canWatch', () => {
  it.each(cases)('%s', (_name, args, expected) => {
    expect(canWatch(...args)).toEqual(expected);
  });
});
