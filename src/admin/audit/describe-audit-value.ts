/**
 * Turns a stored before/after JSON value into the short text the audit page shows, e.g.
 * "active: yes, last day: 2027-06-30". Subscription ends are stored as the exclusive instant access ends
 * (midnight UTC after the last day), so they are shown as the last day, as every other page shows them.
 */
export function describeAuditValue(json: string | null): string | null {
  if (json === null) return null;

  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return json;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return json;

  return Object.entries(value as Record<string, unknown>)
    .map(([key, field]) => describeField(key, field))
    .join(', ');
}

const DAY_MS = 24 * 60 * 60 * 1000;

function describeField(key: string, field: unknown): string {
  if (key === 'endsAt') {
    if (field === null) return 'last day: none';
    if (typeof field === 'string' && !Number.isNaN(Date.parse(field))) {
      return `last day: ${new Date(Date.parse(field) - DAY_MS).toISOString().slice(0, 10)}`;
    }
  }
  if (typeof field === 'boolean') return `${labelOf(key)}: ${field ? 'yes' : 'no'}`;
  if (field === null) return `${labelOf(key)}: none`;
  return `${labelOf(key)}: ${typeof field === 'string' ? field : JSON.stringify(field)}`;
}

/** "isAdmin" becomes "is admin", "durationSeconds" becomes "duration seconds". */
function labelOf(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
