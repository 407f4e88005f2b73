import { randomBytes } from 'node:crypto';

/** A random URL-safe id (96 bits), so video and user ids cannot be guessed or enumerated. */
export function newId(): string {
  return randomBytes(12).toString('base64url');
}

export const ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
