import { lastDayOf } from '../http/form-fields.js';

export type SubscriptionState = 'none' | 'active' | 'inactive' | 'ended';

/** Classifies a subscription for admins with the rule of can-watch: access ends at endsAt, exclusive. */
export function subscriptionStateOf(subscription: { active: boolean; endsAt: Date | string | null } | null | undefined, now: Date): SubscriptionState {
  if (!subscription) return 'none';
  if (!subscription.active) return 'inactive';
  if (subscription.endsAt !== null && new Date(subscription.endsAt).getTime() <= now.getTime()) return 'ended';
  return 'active';
}

export function subscriptionView(subscription: { active: boolean; endsAt: Date | string | null } | null | undefined, now: Date) {
  return {
    state: subscriptionStateOf(subscription, now),
    lastDay: subscription ? lastDayOf(subscription.endsAt) : null,
  };
}
