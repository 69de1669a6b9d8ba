import { ConfigError } from '@stickygw/servicekit';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadGatewayConfig, parseGatewayYaml } from './load-config.js';
import type { GatewayConfig } from './types.js';

/**
 * Generated-document fuzz: random mutations of a valid document (wrong types, missing fields,
 * random strings, broken text) must give either a valid frozen config or a ConfigError with
 * non-empty, single-line problems: never another exception. Seeded, so a failure reproduces.
 */

const SEED = 0x5eed_c0f6;
const RUNS = 300;

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function baseDocument(): { [key: string]: Json } {
  return {
    default: { action: 'use_cluster', use_cluster: 'myauth' },
    routes: [
      { prefix: '/my_service.MyServiceAPI/Login', cluster: 'myauth', authorization: 'none' },
      {
        prefix: '/my_service.MyServiceAPI/MyService*',
        cluster: 'my_service',
        authorization: 'required',
        balancer: { type: 'sticky_sessions', header: 'session-id' },
      },
    ],
    clusters: {
      myauth: { type: 'static', address: 'myauth:5001' },
      my_service: { type: 'dynamic', discoverer_url: 'http://d:8080', discoverer_interval_ms: 5000 },
    },
  };
}

function fuzzer(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const randomString = (): string => {
    const alphabet = 'ab/*: -_.\t\n"\'{}[]#&!%@\\é0123456789';
    const length = Math.floor(random() * 12);
    return Array.from({ length }, () => pick([...alphabet])).join('');
  };
  const randomValue = (): Json =>
    pick<() => Json>([
      () => null,
      () => true,
      () => Math.floor(random() * 200_000) - 100_000,
      () => random() * 10,
      () => 2 ** 40,
      () => randomString(),
      () =>
        pick([
          'static',
          'dynamic',
          'error',
          'use_cluster',
          'required',
          'none',
          'sticky_sessions',
          'round_robin',
        ]),
      () => pick(['myauth', 'my_service', '']),
      () => 'x'.repeat(5000),
      () => [randomString(), 1],
      () => ({ [randomString()]: randomString() }),
    ])();

  /** Every (container, key) pair in the document, to mutate one at random. */
  const slots = (value: Json, out: [Json[] | { [key: string]: Json }, string | number][] = []) => {
    if (Array.isArray(value)) {
      value.forEach((child, i) => {
        out.push([value, i]);
        slots(child, out);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        out.push([value, key]);
        slots(child, out);
      }
    }
    return out;
  };

  const mutateDocument = (document: { [key: string]: Json }): void => {
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      const [container, key] = pick(slots(document));
      const action = random();
      if (action < 0.55) {
        (container as Record<string | number, Json>)[key] = randomValue();
      } else if (Array.isArray(container)) {
        container.splice(key as number, 1);
      } else if (action < 0.85) {
        delete container[key as string];
      } else {
        container[randomString()] = randomValue();
      }
    }
  };

  const mutateText = (text: string): string => {
    const at = Math.floor(random() * text.length);
    return pick([
      () => text.slice(0, at) + randomString() + text.slice(at),
      () => text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 10)),
      () => text.slice(0, at),
      () => `${text}\n${text}`,
      () => text.replaceAll('  ', pick([' ', '\t', '   '])),
    ])();
  };

  return { mutateDocument, mutateText, randomString, random, pick };
}

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') {
    return true;
  }
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

function expectValidYamlPart(config: Pick<GatewayConfig, 'default' | 'routes' | 'clusters'>): void {
  expect(isDeepFrozen(config)).toBe(true);
  const ids = new Set(config.clusters.map((cluster) => cluster.id));
  expect(ids.size).toBe(config.clusters.length);
  const prefixes = config.routes.map((route) => route.prefix);
  expect(new Set(prefixes).size).toBe(prefixes.length);
  for (const route of config.routes) {
    expect(route.prefix.startsWith('/')).toBe(true);
    expect(ids.has(route.cluster)).toBe(true);
    expect(['none', 'required']).toContain(route.authorization);
    if (route.balancer.type === 'sticky_sessions') {
      expect(route.balancer.header).toMatch(/^[^A-Z\s]+$/);
    }
  }
  if (config.default.action === 'use_cluster') {
    expect(ids.has(config.default.cluster)).toBe(true);
  }
  for (const cluster of config.clusters) {
    if (cluster.type === 'dynamic') {
      expect(cluster.discovererIntervalMs).toBeGreaterThan(0);
      expect(cluster.discovererUrl).toMatch(/^https?:\/\/[^/]/);
      expect(cluster.discovererUrl.endsWith('/')).toBe(false);
    } else if (cluster.type === 'static') {
      expect(cluster.address).toMatch(/:[0-9]+$/);
    }
  }
}

/** Returns 'ok' or 'rejected'; fails the test on any other outcome. */
function outcome(run: () => Pick<GatewayConfig, 'default' | 'routes' | 'clusters'>): 'ok' | 'rejected' {
  let config: Pick<GatewayConfig, 'default' | 'routes' | 'clusters'>;
  try {
    config = run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) {
      expect(problem.trim()).not.toBe('');
      expect(problem).not.toContain('\n');
    }
    return 'rejected';
  }
  expectValidYamlPart(config);
  return 'ok';
}

describe('config fuzz (generated documents)', () => {
  it(`${RUNS} mutated documents: a valid frozen config or a ConfigError, nothing else`, () => {
    const f = fuzzer(mulberry32(SEED));
    const seen = { ok: 0, rejected: 0 };
    for (let run = 0; run < RUNS; run++) {
      const document = baseDocument();
      f.mutateDocument(document);
      let text = stringify(document);
      if (f.random() < 0.3) {
        text = f.mutateText(text);
      }
      seen[outcome(() => parseGatewayYaml(text))]++;

      const env: Record<string, string | undefined> = {
        SERVICE_PORT_GRPC: f.pick(['9000', '0', 'x', undefined]),
        CONFIG_PATH: f.pick(['gw.yaml', '/abs/gw.yaml', ' ', undefined]),
        JWT_SECRET: f.pick(['s', '', undefined]),
        RETRY_COUNT: f.pick(['3', '0', f.randomString(), undefined]),
        RETRY_TIMEOUT_MS: f.pick(['100', '-1', f.randomString()]),
        MAX_REPLAY_BUFFER_BYTES: f.pick(['0', '10', f.randomString(), undefined]),
      };
      outcome(() => loadGatewayConfig(env, { cwd: '/srv', readFile: () => text }));
    }
    // The mutations must exercise both outcomes, or the fuzz proves little.
    expect(seen.ok).toBeGreaterThan(10);
    expect(seen.rejected).toBeGreaterThan(100);
  });
});
