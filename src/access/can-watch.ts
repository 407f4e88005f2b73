/*
 * The one entitlement rule. The catalogue (locked or not), the watch page and every grant and media request
 * ask it, so a revocation or an end date bites everywhere at once. Pure: no I/O, time passed in.
 */

export interface AccessUser {
  id: string;
  isAdmin: boolean;
}

export interface AccessSubscription {
  active: boolean;
  endsAt: Date | null;
}

export interface AccessVideo {
  published: boolean;
}

export type AccessDecision =
  | { allowed: true; reason: 'admin' | 'subscriber' }
  | { allowed: false; reason: 'not-logged-in' | 'no-subscription' | 'subscription-inactive' | 'subscription-ended' | 'video-unpublished' };

export function canWatch(
  user: AccessUser | undefined,
  subscription: AccessSubscription | undefined,
  video: AccessVideo,
  now: Date,
): AccessDecision {
  if (!user) return { allowed: false, reason: 'not-logged-in' };

  // Admins preview drafts and check uploads, so they need no subscription and see unpublished videos.
  if (user.isAdmin) return { allowed: true, reason: 'admin' };

  if (!video.published) return { allowed: false, reason: 'video-unpublished' };
  if (!subscription) return { allowed: false, reason: 'no-subscription' };
  if (!subscription.active) return { allowed: false, reason: 'subscription-inactive' };
  if (subscription.endsAt !== null && now.getTime() >= subscription.endsAt.getTime()) {
    return { allowed: false, reason: 'subscription-ended' };
  }
  return { allowed: true, reason: 'subscriber' };
}

/** The sentence a refused viewer sees, per reason. */
export const REFUSAL_MESSAGES: Record<Exclude<AccessDecision, { allowed: true }>['reason'], string> = {
  'not-logged-in': 'You are logged out. Log in again to keep watching.',
  'no-subscription': 'Watching needs an active subscription, and this account has none.',
  'subscription-inactive': 'Your subscription is not active, so this video cannot be played.',
  'subscription-ended': 'Your subscription has ended, so this video cannot be played.',
  'video-unpublished': 'This video is not available.',
};
