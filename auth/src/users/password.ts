import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * A stored password: a salted scrypt hash, or plain text kept for compatibility with the reference's
 * records (REFERENCE.md 3.3). The stored form of a hash is
 * `scrypt$<N>$<r>$<p>$<salt, base64>$<derived key, base64>` (standard base64 with padding).
 */
export type StoredPassword =
  | { readonly kind: 'plain'; readonly value: string }
  | {
      readonly kind: 'scrypt';
      readonly cost: number;
      readonly blockSize: number;
      readonly parallelization: number;
      readonly salt: Buffer;
      readonly hash: Buffer;
    };

export interface ScryptParams {
  /** N, a power of two. */
  readonly cost: number;
  /** r */
  readonly blockSize: number;
  /** p */
  readonly parallelization: number;
}

/** OWASP's minimum for scrypt; about 50 ms per hash here. */
const DEFAULT_SCRYPT_PARAMS: ScryptParams = { cost: 2 ** 14, blockSize: 8, parallelization: 1 };

const SCRYPT_PREFIX = 'scrypt$';
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/**
 * Bounds on parameters read from Redis: a record with a huge N or r would otherwise let whoever can
 * write a user make every Login of that user allocate gigabytes.
 */
const MAX_COST = 2 ** 20;
const MAX_BLOCK_SIZE = 32;
const MAX_PARALLELIZATION = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

/** The stored value starts like a scrypt hash but cannot be read as one. */
class PasswordFormatError extends Error {
  override readonly name = 'PasswordFormatError';
}

function deriveKey(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  const memory = 128 * params.cost * params.blockSize;
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      keyLength,
      { N: params.cost, r: params.blockSize, p: params.parallelization, maxmem: 2 * memory },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    );
  });
}

function checkParams(params: ScryptParams): string | undefined {
  const { cost, blockSize, parallelization } = params;
  if (!Number.isSafeInteger(cost) || cost < 2 || cost > MAX_COST || (cost & (cost - 1)) !== 0) {
    return `N must be a power of two in 2..${MAX_COST}`;
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
    return `r must be in 1..${MAX_BLOCK_SIZE}`;
  }
  if (
    !Number.isSafeInteger(parallelization) ||
    parallelization < 1 ||
    parallelization > MAX_PARALLELIZATION
  ) {
    return `p must be in 1..${MAX_PARALLELIZATION}`;
  }
  if (128 * cost * blockSize > MAX_MEMORY_BYTES) return 'N and r need more than 256 MiB';
  return undefined;
}

/** Hashes `password` with a fresh random salt into the stored `scrypt$...` form. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const problem = checkParams(params);
  if (problem !== undefined) throw new RangeError(`invalid scrypt parameters: ${problem}`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await deriveKey(password, salt, KEY_BYTES, params);
  const { cost, blockSize, parallelization } = params;
  return `scrypt$${cost}$${blockSize}$${parallelization}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function parseDecimal(text: string | undefined): number {
  return text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Reads a stored password value. Anything starting with `scrypt$` is a hash and must be well formed
 * (a malformed one throws {@link PasswordFormatError}); any other string is a plain-text password.
 */
export function parseStoredPassword(value: string): StoredPassword {
  if (!value.startsWith(SCRYPT_PREFIX)) return { kind: 'plain', value };
  const parts = value.split('$');
  if (parts.length !== 6) {
    throw new PasswordFormatError('scrypt hash must have the form scrypt$N$r$p$salt$hash');
  }
  const [, costText, blockSizeText, parallelizationText, saltText = '', hashText = ''] = parts;
  const params = {
    cost: parseDecimal(costText),
    blockSize: parseDecimal(blockSizeText),
    parallelization: parseDecimal(parallelizationText),
  };
  const problem = checkParams(params);
  if (problem !== undefined) throw new PasswordFormatError(`invalid scrypt parameters: ${problem}`);
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) {
    throw new PasswordFormatError('scrypt salt and hash must be non-empty base64');
  }
  const hash = Buffer.from(hashText, 'base64');
  if (hash.length < 16 || hash.length > 128)
    throw new PasswordFormatError('scrypt hash must be 16..128 bytes');
  return { kind: 'scrypt', ...params, salt: Buffer.from(saltText, 'base64'), hash };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * True when `candidate` is the stored password. Both paths compare in constant time: plain text via
 * fixed-length digests (so neither content nor length leaks through timing), hashes directly.
 * An empty password matches an empty stored plain-text password, as in the reference.
 */
export async function verifyPassword(stored: StoredPassword, candidate: string): Promise<boolean> {
  if (stored.kind === 'plain') return timingSafeEqual(sha256(stored.value), sha256(candidate));
  const derived = await deriveKey(candidate, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(derived, stored.hash);
}
