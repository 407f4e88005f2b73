import { z } from 'zod';

import { ID_PATTERN } from '../../ids.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const idField = z.string().regex(ID_PATTERN);

export const emailField = z
  .string({ error: 'Enter an email address.' })
  .trim()
  .toLowerCase()
  .min(1, { error: 'Enter an email address.' })
  .max(320, { error: 'The email address is too long: use at most 320 characters.' })
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: 'The email address is invalid: use the form name@example.com.' });

/** An HTML checkbox sends "on" when ticked and nothing at all when not. */
export const checkboxField = z
  .literal('on', { error: 'Tick the box or leave it empty.' })
  .optional()
  .transform((value) => value === 'on');

/**
 * A date input (YYYY-MM-DD) read as the last day of access: access ends at the end of that day in UTC, the
 * same rule as the CLI's --until. An empty input means no end date.
 */
export const lastDayField = z
  .string()
  .trim()
  .optional()
  .transform((text, context): Date | null => {
    if (!text) return null;

    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
    const start = new Date(Date.UTC(year, month - 1, day));
    if (!match || start.getUTCFullYear() !== year || start.getUTCMonth() !== month - 1 || start.getUTCDate() !== day) {
      context.addIssue({ code: 'custom', message: `The end date "${text}" is invalid: use a real day as YYYY-MM-DD, for example 2027-01-31.` });
      return z.NEVER;
    }
    return new Date(start.getTime() + DAY_MS);
  });

/** Shows an end instant as the last day of access, the inverse of lastDayField. */
export function lastDayOf(endsAt: Date | string | null): string | null {
  if (endsAt === null) return null;
  return new Date(new Date(endsAt).getTime() - DAY_MS).toISOString().slice(0, 10);
}

/** A same-site admin path to return to after a POST; anything else falls back to `fallback`. */
export const adminReturnField = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((path) => (path && /^\/admin(\/[A-Za-z0-9/_-]*)?(\?[A-Za-z0-9=&%._@+-]*)?$/.test(path) ? path : fallback));
