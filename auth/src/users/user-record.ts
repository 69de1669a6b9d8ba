import { parseStoredPassword, type StoredPassword } from './password.js';

/** A user as stored under `external_user:<login>` (REFERENCE.md 3.3). */
export interface UserRecord {
  readonly password: StoredPassword;
  readonly role: string;
}

/** The stored value cannot be read as a user; Login answers INTERNAL `failed to get user`. */
class UserRecordError extends Error {
  override readonly name = 'UserRecordError';
}

const FIELDS = ['login', 'password', 'role'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Decodes a stored user the way the reference's Go `encoding/json` does: property names match
 * case-insensitively (a later duplicate wins), unknown properties are ignored, a missing or `null`
 * field is empty, and a field of another type is an error. `login` is accepted but unused: the token
 * carries the requested username (REFERENCE.md 3.3, Rewrite). Unlike Go, a top-level value that is
 * not an object (including `null`) is an error rather than an empty user.
 */
export function parseUserRecord(json: string): UserRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new UserRecordError('user record is not valid JSON', { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserRecordError('user record must be a JSON object');
  }
  const fields: Record<Field, string> = { login: '', password: '', role: '' };
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = FIELDS.find((name) => name === key.toLowerCase());
    if (field === undefined || fieldValue === null) continue;
    if (typeof fieldValue !== 'string')
      throw new UserRecordError(`user record field "${key}" must be a string`);
    fields[field] = fieldValue;
  }
  try {
    return { password: parseStoredPassword(fields.password), role: fields.role };
  } catch (error) {
    throw new UserRecordError(`user record password: ${(error as Error).message}`, { cause: error });
  }
}
