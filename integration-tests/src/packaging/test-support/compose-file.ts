import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../harness/repo-paths.js';
import { generateStackSecrets, writeComposeSecrets } from '../../harness/stack-secrets.js';

/** The parts of a compose file the packaging tests look at. */
export interface ComposeService {
  image?: string;
  command?: string | string[];
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | (string | { path: string; required?: boolean })[];
  volumes?: string[];
  ports?: (string | { target: number; published: number | string })[];
  deploy?: { replicas?: number };
  depends_on?: string[] | Record<string, { condition?: string }>;
  configs?: (string | { source: string; target?: string })[];
  healthcheck?: { test?: string | string[] };
  networks?: string[] | Record<string, unknown>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  configs?: Record<string, { file?: string }>;
  networks?: Record<string, unknown>;
}

const COMPOSE_PATH = join(REPO_ROOT, 'docker-compose.yml');

/** Parsed as Compose reads it: `<<: *anchor` merges are resolved (the second gateway is one). */
export function readComposeFile(path = COMPOSE_PATH): ComposeFile {
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

/** `environment` as a map, whichever of the two compose syntaxes is used. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const at = line.indexOf('=');
        return at === -1 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, value === null ? '' : String(value)]),
  );
}

/** Where the compose file expects `make up` to have written its secret files. */
export const COMPOSE_SECRETS_DIR = '.stack/secrets';

export function envFilesOf(service: ComposeService): string[] {
  const files = service.env_file;
  if (files === undefined) return [];
  return (Array.isArray(files) ? files : [files]).map((file) =>
    typeof file === 'string' ? file : file.path,
  );
}

let generated: string | undefined;
/** The secret files as `make up` writes them (fresh secrets, a temporary directory), written once. */
export function generatedComposeSecrets(): string {
  if (generated === undefined) {
    generated = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
    writeComposeSecrets(generateStackSecrets(), generated);
  }
  return generated;
}

/** The variables of a `NAME=value` env file. */
export function readEnvFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/**
 * What a container gets: its env files (read from {@link generatedComposeSecrets}; each must be one
 * `make up` writes) overridden by `environment`, as Compose merges them.
 */
export function effectiveEnvironmentOf(service: ComposeService): Record<string, string> {
  const fromFiles = envFilesOf(service).map((file) => {
    if (!file.startsWith(`${COMPOSE_SECRETS_DIR}/`))
      throw new Error(`env file outside ${COMPOSE_SECRETS_DIR}: ${file}`);
    return readEnvFile(join(generatedComposeSecrets(), basename(file)));
  });
  return Object.assign({}, ...fromFiles, environmentOf(service));
}

export function buildOf(service: ComposeService): { context: string; dockerfile: string } | undefined {
  if (service.build === undefined) return undefined;
  if (typeof service.build === 'string') return { context: service.build, dockerfile: 'Dockerfile' };
  return { context: service.build.context ?? '.', dockerfile: service.build.dockerfile ?? 'Dockerfile' };
}

export function dependenciesOf(service: ComposeService): string[] {
  const deps = service.depends_on;
  if (deps === undefined) return [];
  return Array.isArray(deps) ? deps : Object.keys(deps);
}
