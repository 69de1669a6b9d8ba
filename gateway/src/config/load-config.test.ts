import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Type } from '@stickygw/servicekit';
import { thrownBy, writeTempFiles } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { type LoadConfigOptions, loadGatewayConfig, parseGatewayYaml } from './load-config.js';

/** REFERENCE.md 6.2, `config/gateway.docker.yaml`. */
const COMPOSE_YAML = `
default:
  action: error

routes:
  - prefix: /my_service.MyServiceAPI/Login
    cluster: myauth
    authorization: none
    balancer:
      type: round_robin

  - prefix: /my_service.MyServiceAPI/MyService
    cluster: my_service
    authorization: required
    balancer:
      type: sticky_sessions
      header: session-id

clusters:
  myauth:
    type: static
    address: myauth:5001

  my_service:
    type: dynamic
    discoverer_url: http://mydiscoverer:8080
    discoverer_interval_ms: 5000
`;

const VALID_ENV = {
  SERVICE_PORT_GRPC: '9000',
  CONFIG_PATH: 'gateway.yaml',
  JWT_SECRET: 'secret',
  RETRY_COUNT: '3',
  RETRY_TIMEOUT_MS: '1000',
} as const;

const CWD = '/etc/gateway';

function load(env: Record<string, string | undefined>, yaml = COMPOSE_YAML) {
  return loadGatewayConfig(env, { cwd: CWD, readFile: () => yaml });
}

const problemsOf = (run: () => unknown): readonly string[] => thrownBy(ConfigError, run).problems;

const envProblems = (env: Record<string, string | undefined>, yaml?: string) =>
  problemsOf(() => load(env, yaml));
const yamlProblems = (yaml: string) => problemsOf(() => parseGatewayYaml(yaml));

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') {
    return true;
  }
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

/** One static cluster `c` plus the given routes / default, for the route checks. */
function withRoutes(routes: string, defaults = ''): string {
  return `${defaults}\nroutes:\n${routes}\nclusters:\n  c:\n    type: static\n    address: c:1\n`;
}

const REDIS_YAML = `${COMPOSE_YAML}\nsession_store:\n  type: redis\n  url: redis://127.0.0.1:6380\n`;

describe('loadGatewayConfig', () => {
  describe('session store and workers', () => {
    it('SESSION_STORE_URL overrides the url of a redis store, not the type of a memory one', () => {
      expect(
        load({ ...VALID_ENV, SESSION_STORE_URL: 'redis+cluster://a:1,b:2' }, REDIS_YAML).sessionStore,
      ).toEqual({
        type: 'redis',
        url: 'redis+cluster://a:1,b:2',
      });
      expect(load({ ...VALID_ENV, SESSION_STORE_URL: 'redis://a:1' }).sessionStore).toEqual({
        type: 'memory',
      });
    });

    it('a redis store needs a url, from the file or SESSION_STORE_URL', () => {
      expect(envProblems(VALID_ENV, `${COMPOSE_YAML}\nsession_store: { type: redis }\n`)).toEqual([
        'session_store.url is required for session_store.type=redis (or set SESSION_STORE_URL)',
      ]);
    });

    it('refuses a bad SESSION_STORE_URL', () => {
      expect(envProblems({ ...VALID_ENV, SESSION_STORE_URL: 'redis://x' }, REDIS_YAML)).toEqual([
        'SESSION_STORE_URL must be a redis://host:port, rediss://host:port or redis+cluster://host:port,host:port URL, got "redis://x"',
      ]);
    });

    it('GATEWAY_WORKERS: a positive integer or auto, more than one only with a shared store', () => {
      expect(load({ ...VALID_ENV, GATEWAY_WORKERS: '3' }, REDIS_YAML).workers).toBe(3);
      expect(load({ ...VALID_ENV, GATEWAY_WORKERS: 'auto' }, REDIS_YAML).workers).toBeGreaterThan(0);
      expect(envProblems({ ...VALID_ENV, GATEWAY_WORKERS: '0' })).toEqual([
        'GATEWAY_WORKERS must be a positive integer or auto, got "0"',
      ]);
      expect(envProblems({ ...VALID_ENV, GATEWAY_WORKERS: '2' })).toEqual([
        'GATEWAY_WORKERS=2 needs session_store.type=redis: with the memory store each process keeps its own bindings and would give one instance to two sessions',
      ]);
    });
  });

  it('loads the compose configuration of REFERENCE.md 6.2', () => {
    const config = load(VALID_ENV);
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      configPath: '/etc/gateway/gateway.yaml',
      jwtSecret: 'secret',
      retryCount: 3,
      retryTimeoutMs: 1000,
      default: { action: 'error' },
      routes: [
        {
          prefix: '/my_service.MyServiceAPI/Login',
          cluster: 'myauth',
          authorization: 'none',
          balancer: { type: 'round_robin' },
        },
        {
          prefix: '/my_service.MyServiceAPI/MyService',
          cluster: 'my_service',
          authorization: 'required',
          balancer: { type: 'sticky_sessions', header: 'session-id' },
        },
      ],
      clusters: [
        { type: 'static', id: 'myauth', address: 'myauth:5001' },
        {
          type: 'dynamic',
          id: 'my_service',
          discovererUrl: 'http://mydiscoverer:8080',
          discovererIntervalMs: 5000,
        },
      ],
      limits: {
        maxMessageBytes: 0,
        maxReplayBufferBytes: 1_048_576,
        shutdownGraceMs: 5000,
        handshakeTimeoutMs: 10_000,
        idleTimeoutMs: 300_000,
      },
      sessionStore: { type: 'memory' },
      workers: 1,
    });
  });

  it('returns a deep-frozen config', () => {
    const config = load(VALID_ENV);
    expect(isDeepFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.routes[1]?.balancer)).toBe(true);
  });

  it('reads a real file, relative CONFIG_PATH resolved against cwd', () => {
    const { dir } = writeTempFiles('gw-config-', { 'gateway.yaml': COMPOSE_YAML });
    try {
      const config = loadGatewayConfig({ ...VALID_ENV, CONFIG_PATH: ' ./gateway.yaml ' }, { cwd: dir });
      expect(config.configPath).toBe(join(dir, 'gateway.yaml'));
      expect(config.routes).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps an absolute CONFIG_PATH', () => {
    let readPath = '';
    loadGatewayConfig(
      { ...VALID_ENV, CONFIG_PATH: '/srv/gw.yaml' },
      {
        cwd: CWD,
        readFile: (path) => {
          readPath = path;
          return COMPOSE_YAML;
        },
      },
    );
    expect(readPath).toBe('/srv/gw.yaml');
  });

  describe('environment messages (REFERENCE.md 6.1, in order)', () => {
    it.each([
      [undefined, 'SERVICE_PORT_GRPC must be a valid port (1-65535)'],
      ['', 'SERVICE_PORT_GRPC must be a valid port (1-65535)'],
      ['abc', 'SERVICE_PORT_GRPC must be a valid port (1-65535)'],
      ['80.5', 'SERVICE_PORT_GRPC must be a valid port (1-65535)'],
      ['99999999999999999999', 'SERVICE_PORT_GRPC must be a valid port (1-65535)'],
      ['0', 'SERVICE_PORT_GRPC must be 1-65535, got 0'],
      ['-1', 'SERVICE_PORT_GRPC must be 1-65535, got -1'],
      ['65536', 'SERVICE_PORT_GRPC must be 1-65535, got 65536'],
    ])('SERVICE_PORT_GRPC=%j -> %s', (value, message) => {
      expect(envProblems({ ...VALID_ENV, SERVICE_PORT_GRPC: value })).toEqual([message]);
    });

    it('accepts SERVICE_PORT_GRPC with surrounding blanks and the bounds', () => {
      expect(load({ ...VALID_ENV, SERVICE_PORT_GRPC: ' 1 ' }).port).toBe(1);
      expect(load({ ...VALID_ENV, SERVICE_PORT_GRPC: '65535' }).port).toBe(65535);
    });

    it.each([undefined, '', '   '])('CONFIG_PATH=%j -> CONFIG_PATH is required', (value) => {
      expect(envProblems({ ...VALID_ENV, CONFIG_PATH: value })).toEqual(['CONFIG_PATH is required']);
    });

    it('an unreadable file -> load config <absolute path>: <reason>', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
      try {
        const problems = problemsOf(() =>
          loadGatewayConfig({ ...VALID_ENV, CONFIG_PATH: 'missing.yaml' }, { cwd: dir }),
        );
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^load config ${join(dir, 'missing.yaml')}: ENOENT`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a YAML syntax error -> load config <absolute path>: <reason> on one line', () => {
      const problems = envProblems(VALID_ENV, 'routes: [\n');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^load config \/etc\/gateway\/gateway\.yaml: .*line 2/);
      expect(problems[0]).not.toContain('\n');
    });

    it.each([
      ['- a\n- b\n', 'a list'],
      ['just text\n', '"just text"'],
      ['42\n', '42'],
    ])('a non-mapping document %j -> load config <path>: ...got %s', (yaml, got) => {
      expect(envProblems(VALID_ENV, yaml)).toEqual([
        `load config /etc/gateway/gateway.yaml: the document must be a mapping, got ${got}`,
      ]);
    });

    it.each([undefined, '', '  \t'])(
      'JWT_SECRET=%j with a required route -> the reference message',
      (value) => {
        expect(envProblems({ ...VALID_ENV, JWT_SECRET: value })).toEqual([
          'JWT_SECRET is required when at least one route has authorization=required',
        ]);
      },
    );

    it('JWT_SECRET is optional when no route requires authorization, and trimmed', () => {
      const yaml = COMPOSE_YAML.replace('authorization: required', 'authorization: none');
      expect(load({ ...VALID_ENV, JWT_SECRET: undefined }, yaml).jwtSecret).toBeUndefined();
      expect(load({ ...VALID_ENV, JWT_SECRET: '  s3cret \n' }).jwtSecret).toBe('s3cret');
    });

    it.each([
      [undefined, 'RETRY_COUNT is required'],
      [' ', 'RETRY_COUNT is required'],
      ['0', 'RETRY_COUNT must be a positive integer, got "0"'],
      ['-2', 'RETRY_COUNT must be a positive integer, got "-2"'],
      ['1.5', 'RETRY_COUNT must be a positive integer, got "1.5"'],
      [' three ', 'RETRY_COUNT must be a positive integer, got "three"'],
    ])('RETRY_COUNT=%j -> %s', (value, message) => {
      expect(envProblems({ ...VALID_ENV, RETRY_COUNT: value })).toEqual([message]);
    });

    it.each([
      [undefined, 'RETRY_TIMEOUT_MS is required'],
      ['', 'RETRY_TIMEOUT_MS is required'],
      ['0', 'RETRY_TIMEOUT_MS must be a positive integer (ms), got "0"'],
      ['1s', 'RETRY_TIMEOUT_MS must be a positive integer (ms), got "1s"'],
      [
        '2147483648',
        'RETRY_TIMEOUT_MS must be a positive integer (ms), got "2147483648" (at most 2147483647)',
      ],
    ])('RETRY_TIMEOUT_MS=%j -> %s', (value, message) => {
      expect(envProblems({ ...VALID_ENV, RETRY_TIMEOUT_MS: value })).toEqual([message]);
    });

    it('trims RETRY_COUNT and RETRY_TIMEOUT_MS', () => {
      const config = load({ ...VALID_ENV, RETRY_COUNT: ' 5 ', RETRY_TIMEOUT_MS: '\t250 ' });
      expect([config.retryCount, config.retryTimeoutMs]).toEqual([5, 250]);
    });

    it('reports every problem at once, in the reference order', () => {
      const problems = envProblems({ RETRY_COUNT: 'x', MAX_MESSAGE_BYTES: '0' });
      expect(problems).toEqual([
        'SERVICE_PORT_GRPC must be a valid port (1-65535)',
        'CONFIG_PATH is required',
        'RETRY_COUNT must be a positive integer, got "x"',
        'RETRY_TIMEOUT_MS is required',
        'MAX_MESSAGE_BYTES must be a positive integer (bytes), got "0"',
      ]);
    });

    it('puts YAML problems between CONFIG_PATH and JWT_SECRET, with the message joined by newlines', () => {
      const yaml = `${COMPOSE_YAML}\n  broken:\n    type: weird\n`;
      let caught: unknown;
      try {
        load({ ...VALID_ENV, SERVICE_PORT_GRPC: '0', JWT_SECRET: '', RETRY_COUNT: '0' }, yaml);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.problems).toEqual([
        'SERVICE_PORT_GRPC must be 1-65535, got 0',
        'cluster broken: type must be static|dynamic',
        'JWT_SECRET is required when at least one route has authorization=required',
        'RETRY_COUNT must be a positive integer, got "0"',
      ]);
      expect(error.message).toBe(error.problems.join('\n'));
      expect(error.name).toBe('ConfigError');
    });
  });

  describe('variables beyond the reference', () => {
    it('defaults LISTEN_HOST and the limits, also when blank', () => {
      const blank = {
        LISTEN_HOST: ' ',
        MAX_MESSAGE_BYTES: '',
        MAX_REPLAY_BUFFER_BYTES: '',
        SHUTDOWN_GRACE_MS: '',
        HANDSHAKE_TIMEOUT_MS: '',
        IDLE_TIMEOUT_MS: ' ',
      };
      for (const env of [VALID_ENV, { ...VALID_ENV, ...blank }]) {
        const config = load(env);
        expect(config.host).toBe('127.0.0.1');
        expect(config.limits).toEqual({
          maxMessageBytes: 0,
          maxReplayBufferBytes: 1_048_576,
          shutdownGraceMs: 5000,
          handshakeTimeoutMs: 10_000,
          idleTimeoutMs: 300_000,
        });
      }
    });

    it('reads them when set', () => {
      const config = load({
        ...VALID_ENV,
        LISTEN_HOST: '0.0.0.0',
        MAX_MESSAGE_BYTES: '16777216',
        MAX_REPLAY_BUFFER_BYTES: '0',
        SHUTDOWN_GRACE_MS: '100',
        HANDSHAKE_TIMEOUT_MS: '250',
        IDLE_TIMEOUT_MS: '0',
      });
      expect(config.host).toBe('0.0.0.0');
      expect(config.limits).toEqual({
        maxMessageBytes: 16_777_216,
        maxReplayBufferBytes: 0,
        shutdownGraceMs: 100,
        handshakeTimeoutMs: 250,
        idleTimeoutMs: 0,
      });
      expect(load({ ...VALID_ENV, LISTEN_HOST: '::' }).host).toBe('::');
      expect(load({ ...VALID_ENV, LISTEN_HOST: 'gateway.local' }).host).toBe('gateway.local');
    });

    it.each([
      ['LISTEN_HOST', 'not a host', 'LISTEN_HOST must be an IP address or a host name, got "not a host"'],
      ['LISTEN_HOST', 'http://x', 'LISTEN_HOST must be an IP address or a host name, got "http://x"'],
      ['MAX_MESSAGE_BYTES', '0', 'MAX_MESSAGE_BYTES must be a positive integer (bytes), got "0"'],
      ['MAX_MESSAGE_BYTES', '4MiB', 'MAX_MESSAGE_BYTES must be a positive integer (bytes), got "4MiB"'],
      [
        'MAX_REPLAY_BUFFER_BYTES',
        '-1',
        'MAX_REPLAY_BUFFER_BYTES must be a non-negative integer (bytes), got "-1"',
      ],
      ['SHUTDOWN_GRACE_MS', '0', 'SHUTDOWN_GRACE_MS must be a positive integer (ms), got "0"'],
      ['HANDSHAKE_TIMEOUT_MS', '0', 'HANDSHAKE_TIMEOUT_MS must be a positive integer (ms), got "0"'],
      ['HANDSHAKE_TIMEOUT_MS', '1s', 'HANDSHAKE_TIMEOUT_MS must be a positive integer (ms), got "1s"'],
      ['IDLE_TIMEOUT_MS', '-1', 'IDLE_TIMEOUT_MS must be a non-negative integer (ms), got "-1"'],
      [
        'IDLE_TIMEOUT_MS',
        '9999999999',
        'IDLE_TIMEOUT_MS must be a non-negative integer (ms), got "9999999999" (at most 2147483647)',
      ],
      [
        'SHUTDOWN_GRACE_MS',
        '9999999999',
        'SHUTDOWN_GRACE_MS must be a positive integer (ms), got "9999999999" (at most 2147483647)',
      ],
    ])('%s=%j -> %s', (name, value, message) => {
      expect(envProblems({ ...VALID_ENV, [name]: value })).toEqual([message]);
    });
  });
});

describe('parseGatewayYaml', () => {
  it('returns the YAML part, deep-frozen', () => {
    const config = parseGatewayYaml(COMPOSE_YAML);
    expect(Object.keys(config).sort()).toEqual(['clusters', 'default', 'routes', 'sessionStore']);
    expect(isDeepFrozen(config)).toBe(true);
  });

  it('an empty document is an empty config, as in the reference', () => {
    for (const text of ['', '# only a comment\n', '---\n']) {
      expect(parseGatewayYaml(text)).toEqual({
        default: { action: 'error' },
        routes: [],
        clusters: [],
        sessionStore: { type: 'memory' },
      });
    }
  });

  it('syntax errors, duplicate keys and alias bombs -> load config <source>: <reason>', () => {
    expect(yamlProblems('a: [')[0]).toMatch(/^load config <inline>: Flow sequence/);
    expect(yamlProblems('routes: []\nroutes: []\n')[0]).toMatch(
      /^load config <inline>: Map keys must be unique/,
    );
    expect(problemsOf(() => parseGatewayYaml('- x', 'my.yaml'))).toEqual([
      'load config my.yaml: the document must be a mapping, got a list',
    ]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat(
        ['b', 'c', 'd', 'e', 'f'].map((name, i) => `${name}: &${name} [${`*${'abcde'[i]},`.repeat(9)}]`),
      )
      .join('\n');
    expect(yamlProblems(bomb)).toEqual([
      'load config <inline>: Excessive alias count indicates a resource exhaustion attack',
    ]);
  });

  describe('normalisation (REFERENCE.md 6.2)', () => {
    const prefixOf = (prefix: string) =>
      parseGatewayYaml(withRoutes(`  - prefix: ${JSON.stringify(prefix)}\n    cluster: c`)).routes[0]?.prefix;

    it.each([
      ['myservice/login*', '/myservice/login'],
      ['/svc/method', '/svc/method'],
      ['  /svc/method  ', '/svc/method'],
      ['/svc/method**', '/svc/method*'],
      [' pkg.Svc/ ', '/pkg.Svc/'],
    ])('prefix %j -> %j', (prefix, expected) => {
      expect(prefixOf(prefix)).toBe(expected);
    });

    it('defaults authorization to none and the balancer to round_robin, when absent or empty', () => {
      const config = parseGatewayYaml(
        withRoutes(
          [
            '  - prefix: /a\n    cluster: c',
            '  - prefix: /b\n    cluster: c\n    authorization: "  "\n    balancer:\n      type: ""',
            '  - prefix: /d\n    cluster: c\n    authorization:\n    balancer:',
          ].join('\n'),
        ),
      );
      for (const route of config.routes) {
        expect(route.authorization).toBe('none');
        expect(route.balancer).toEqual({ type: 'round_robin' });
      }
    });

    it('trims every string, lower-cases the sticky header and strips the URL trailing slash', () => {
      const config = parseGatewayYaml(`
default: { action: " use_cluster ", use_cluster: " d " }
routes:
  - prefix: " /x "
    cluster: " s "
    authorization: " required "
    balancer: { type: " sticky_sessions ", header: " Session-ID " }
clusters:
  s: { type: " static ", address: " host:5001 " }
  d: { type: dynamic, discoverer_url: " http://disc:8080/ ", discoverer_interval_ms: 10 }
`);
      expect(config).toEqual({
        default: { action: 'use_cluster', cluster: 'd' },
        routes: [
          {
            prefix: '/x',
            cluster: 's',
            authorization: 'required',
            balancer: { type: 'sticky_sessions', header: 'session-id' },
          },
        ],
        clusters: [
          { type: 'static', id: 's', address: 'host:5001' },
          { type: 'dynamic', id: 'd', discovererUrl: 'http://disc:8080', discovererIntervalMs: 10 },
        ],
        sessionStore: { type: 'memory' },
      });
    });

    it('ignores unknown keys, as the reference', () => {
      const config = parseGatewayYaml(
        `${COMPOSE_YAML}\nextra: 1\nlisteners: [a]\n`.replace(
          'cluster: myauth',
          'cluster: myauth\n    timeout: 5s',
        ),
      );
      expect(config.routes[0]?.cluster).toBe('myauth');
    });

    it('accepts an https discoverer URL with a path', () => {
      const config = parseGatewayYaml(
        'clusters:\n  d: { type: dynamic, discoverer_url: "https://disc.example/api//", discoverer_interval_ms: 1 }',
      );
      expect(config.clusters[0]).toMatchObject({ discovererUrl: 'https://disc.example/api' });
    });
  });

  describe('reference messages (REFERENCE.md 6.2 steps 4-8)', () => {
    it.each([
      ['default:\n  action: drop', 'default.action must be error|use_cluster'],
      ['default:\n  action: Error', 'default.action must be error|use_cluster'],
    ])('step 4: %j', (yaml, message) => {
      expect(yamlProblems(yaml)).toEqual([message]);
    });

    it.each([
      ['  - prefix: "*"\n    cluster: c', 'route[0]: prefix must be non-empty'],
      ['  - cluster: c', 'route[0]: prefix must be non-empty'],
      [
        '  - prefix: /a\n    cluster: c\n  - prefix: "  "\n    cluster: c',
        'route[1]: prefix must be non-empty',
      ],
      [
        '  - prefix: /a\n    cluster: c\n    authorization: jwt',
        'route[0]: authorization must be none|required',
      ],
      [
        '  - prefix: /a\n    cluster: c\n    balancer:\n      type: random',
        'route[0]: balancer.type must be round_robin|sticky_sessions',
      ],
      [
        '  - prefix: /a\n    cluster: c\n    balancer:\n      type: sticky_sessions',
        'route[0]: balancer.header is required for sticky_sessions',
      ],
      [
        '  - prefix: /a\n    cluster: c\n    balancer:\n      type: sticky_sessions\n      header: "  "',
        'route[0]: balancer.header is required for sticky_sessions',
      ],
    ])('step 5: %j', (routes, message) => {
      const problems = yamlProblems(withRoutes(routes));
      expect(problems[0]).toBe(message);
    });

    it('step 5: use_cluster without a cluster', () => {
      expect(
        yamlProblems(withRoutes('  - prefix: /a\n    cluster: c', 'default:\n  action: use_cluster')),
      ).toEqual(['route[-1]: default.cluster is required when default.action=use_cluster']);
    });

    it.each([
      ['type: static', 'cluster x: address is required for static cluster'],
      ['type: static\n    address: " "', 'cluster x: address is required for static cluster'],
      [
        'type: dynamic\n    discoverer_interval_ms: 5',
        'cluster x: discoverer_url is required for dynamic cluster',
      ],
      ['type: dynamic\n    discoverer_url: http://d:1', 'cluster x: discoverer_interval_ms must be positive'],
      [
        'type: dynamic\n    discoverer_url: http://d:1\n    discoverer_interval_ms: 0',
        'cluster x: discoverer_interval_ms must be positive',
      ],
      [
        'type: dynamic\n    discoverer_url: http://d:1\n    discoverer_interval_ms: -5',
        'cluster x: discoverer_interval_ms must be positive',
      ],
      ['type: weird\n    address: a:1', 'cluster x: type must be static|dynamic'],
      ['address: a:1', 'cluster x: type must be static|dynamic'],
    ])('step 6: %j', (body, message) => {
      expect(yamlProblems(`clusters:\n  x:\n    ${body}\n`)).toEqual([message]);
    });

    const dynamicWith = (extra: string): string =>
      `clusters:\n  x:\n    type: dynamic\n    discoverer_url: http://d:1\n    discoverer_interval_ms: 5\n${extra}`;

    it('health_check and outlier_detection: absent means off, empty means the documented defaults', () => {
      expect(parseGatewayYaml(dynamicWith('')).clusters[0]).toEqual({
        type: 'dynamic',
        id: 'x',
        discovererUrl: 'http://d:1',
        discovererIntervalMs: 5,
      });
      expect(
        parseGatewayYaml(dynamicWith('    health_check: {}\n    outlier_detection: {}\n')).clusters[0],
      ).toEqual({
        type: 'dynamic',
        id: 'x',
        discovererUrl: 'http://d:1',
        discovererIntervalMs: 5,
        healthCheck: {
          intervalMs: 5000,
          timeoutMs: 1000,
          unhealthyThreshold: 2,
          healthyThreshold: 2,
          service: '',
        },
        outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 },
      });
    });

    it('health_check and outlier_detection: every wrong field is named, all at once', () => {
      expect(
        [
          ...yamlProblems(
            dynamicWith(
              '    health_check: { interval_ms: 0, timeout_ms: "1s", unhealthy_threshold: 1.5, healthy_threshold: 1001 }\n' +
                '    outlier_detection: { consecutive_failures: -1, base_ejection_ms: 10, max_ejection_ms: 0 }\n',
            ),
          ),
        ].sort(),
      ).toEqual(
        [
          'cluster x: health_check.interval_ms must be an integer 1..2147483647, got 0',
          'cluster x: health_check.timeout_ms must be an integer 1..2147483647, got "1s"',
          'cluster x: health_check.unhealthy_threshold must be an integer 1..1000, got 1.5',
          'cluster x: health_check.healthy_threshold must be an integer 1..1000, got 1001',
          'cluster x: outlier_detection.consecutive_failures must be an integer 1..1000, got -1',
          'cluster x: outlier_detection.max_ejection_ms must be an integer 1..2147483647, got 0',
        ].sort(),
      );
      expect(
        yamlProblems(
          dynamicWith('    outlier_detection: { base_ejection_ms: 1000, max_ejection_ms: 999 }\n'),
        ),
      ).toEqual([
        'cluster x: outlier_detection.max_ejection_ms (999) must be at least base_ejection_ms (1000)',
      ]);
    });

    it('health_check and outlier_detection are refused on a static cluster, not ignored', () => {
      expect(
        yamlProblems(
          'clusters:\n  s:\n    type: static\n    address: a:1\n    health_check: {}\n    outlier_detection: { consecutive_failures: 2 }\n',
        ),
      ).toEqual([
        'cluster s: health_check applies to dynamic clusters only',
        'cluster s: outlier_detection applies to dynamic clusters only',
      ]);
    });

    it('step 6: a cluster with no body is a cluster with no type', () => {
      expect(yamlProblems('clusters:\n  x:\n')).toEqual(['cluster x: type must be static|dynamic']);
    });

    it('step 7: a route naming an unknown cluster (normalised prefix)', () => {
      expect(yamlProblems(withRoutes('  - prefix: pkg.Svc/*\n    cluster: nope'))).toEqual([
        'route prefix "/pkg.Svc/" references unknown cluster "nope"',
      ]);
      expect(yamlProblems(withRoutes('  - prefix: /a'))).toEqual([
        'route prefix "/a" references unknown cluster ""',
      ]);
    });

    it('step 8: default use_cluster naming an unknown cluster', () => {
      expect(
        yamlProblems(
          withRoutes(
            '  - prefix: /a\n    cluster: c',
            'default:\n  action: use_cluster\n  use_cluster: nope',
          ),
        ),
      ).toEqual(['default cluster "nope" is not defined']);
    });

    it('reports every problem in the reference order (4, 5, 6, 7, 8)', () => {
      const problems = yamlProblems(`
default: { action: use_cluster, use_cluster: ghost }
routes:
  - { prefix: "", cluster: c1, authorization: maybe }
  - { prefix: /b, cluster: missing, balancer: { type: sticky_sessions } }
clusters:
  c1: { type: static }
  c2: { type: dynamic }
`);
      expect(problems).toEqual([
        'route[0]: prefix must be non-empty',
        'route[0]: authorization must be none|required',
        'route[1]: balancer.header is required for sticky_sessions',
        'cluster c1: address is required for static cluster',
        'cluster c2: discoverer_url is required for dynamic cluster',
        'cluster c2: discoverer_interval_ms must be positive',
        'route prefix "/b" references unknown cluster "missing"',
        'default cluster "ghost" is not defined',
      ]);
    });
  });

  describe('beyond the reference', () => {
    it('validates clusters in file order, deterministically (REFERENCE.md 8.22)', () => {
      const yaml = ['zeta', '10', 'alpha', '2', 'mid'].map((id) => `  ${id}: { type: nope }`).join('\n');
      const expected = ['zeta', '10', 'alpha', '2', 'mid'].map(
        (id) => `cluster ${id}: type must be static|dynamic`,
      );
      for (let run = 0; run < 3; run++) {
        expect(yamlProblems(`clusters:\n${yaml}\n`)).toEqual(expected);
      }
      const ok = ['zeta', '10', '2'].map((id) => `  ${id}: { type: static, address: "h:1" }`).join('\n');
      expect(parseGatewayYaml(`clusters:\n${ok}\n`).clusters.map((c) => c.id)).toEqual(['zeta', '10', '2']);
    });

    it('rejects duplicate prefixes, also when equal only after normalisation (REFERENCE.md 8.22)', () => {
      const routes = ['/a', '/b', 'a*', '/b']
        .map((p) => `  - prefix: ${JSON.stringify(p)}\n    cluster: c`)
        .join('\n');
      expect(yamlProblems(withRoutes(routes))).toEqual([
        'route[2]: duplicate prefix "/a" (also route[0])',
        'route[3]: duplicate prefix "/b" (also route[1])',
      ]);
    });

    it.each([
      ['routes: {a: 1}', 'routes: expected a list, got a mapping'],
      ['routes: [5]', 'routes[0]: expected a mapping, got 5'],
      ['default: error', 'default: expected a mapping, got "error"'],
      ['default: {action: [error]}', 'default.action: expected a string, got a list'],
      ['clusters: [a]', 'clusters: expected a mapping, got a list'],
      ['clusters: {x: static}', 'clusters.x: expected a mapping, got "static"'],
      ['clusters: {"my svc": 3}', 'clusters["my svc"]: expected a mapping, got 3'],
      ['clusters: {x: {type: true}}', 'clusters.x.type: expected a string, got true'],
    ])('reports wrong YAML types with path and expectation: %j', (yaml, message) => {
      expect(yamlProblems(yaml)).toEqual([message]);
    });

    it('reports the type problem of discoverer_interval_ms instead of "must be positive"', () => {
      for (const [value, got] of [
        ['abc', '"abc"'],
        ['"5000"', '"5000"'],
        ['1.5', '1.5'],
        ['.nan', 'NaN'],
        ['[1]', 'a list'],
      ]) {
        expect(
          yamlProblems(
            `clusters:\n  my_service:\n    type: dynamic\n    discoverer_url: http://d:1\n    discoverer_interval_ms: ${value}\n`,
          ),
        ).toEqual([`clusters.my_service.discoverer_interval_ms: expected a positive integer, got ${got}`]);
      }
    });

    it('lists type problems first (the reference fails them while unmarshalling), then keeps checking', () => {
      const problems = yamlProblems(`
default: { action: nope }
routes:
  - { prefix: 7, cluster: c, authorization: [x] }
  - { prefix: /b, cluster: c, balancer: sticky }
clusters:
  c: { type: dynamic, discoverer_url: http://d:1, discoverer_interval_ms: x }
`);
      expect(problems).toEqual([
        'routes[0].prefix: expected a string, got 7',
        'routes[0].authorization: expected a string, got a list',
        'routes[1].balancer: expected a mapping, got "sticky"',
        'clusters.c.discoverer_interval_ms: expected a positive integer, got "x"',
        'default.action must be error|use_cluster',
      ]);
    });

    it('skips the cross-reference checks when clusters has the wrong type', () => {
      expect(yamlProblems('routes: [{prefix: /a, cluster: c}]\nclusters: [c]\n')).toEqual([
        'clusters: expected a mapping, got a list',
      ]);
    });

    it.each([
      ['a', 'cluster x: address must be host:port with a port 1-65535, got "a"'],
      ['a:', 'cluster x: address must be host:port with a port 1-65535, got "a:"'],
      [':80', 'cluster x: address must be host:port with a port 1-65535, got ":80"'],
      ['a:0', 'cluster x: address must be host:port with a port 1-65535, got "a:0"'],
      ['a:65536', 'cluster x: address must be host:port with a port 1-65535, got "a:65536"'],
      ['http://a:80', 'cluster x: address must be host:port with a port 1-65535, got "http://a:80"'],
      ['[zz]:80', 'cluster x: address must be host:port with a port 1-65535, got "[zz]:80"'],
    ])('a static address must be host:port: %j', (address, message) => {
      expect(yamlProblems(`clusters:\n  x: { type: static, address: ${JSON.stringify(address)} }\n`)).toEqual(
        [message],
      );
    });

    it('accepts host names, IPv4 and bracketed IPv6 addresses', () => {
      for (const address of ['myauth:5001', '127.0.0.1:1', '[::1]:65535']) {
        expect(
          parseGatewayYaml(`clusters:\n  x: { type: static, address: "${address}" }\n`).clusters[0],
        ).toEqual({
          type: 'static',
          id: 'x',
          address,
        });
      }
    });

    it.each(['mydiscoverer:8080', 'ftp://d:21', 'http://d:1/?x=1', 'http://d:1/#top', 'http://user:pw@d:1'])(
      'discoverer_url must be an http(s) URL: %j',
      (url) => {
        expect(
          yamlProblems(
            `clusters:\n  x: { type: dynamic, discoverer_url: "${url}", discoverer_interval_ms: 5 }\n`,
          ),
        ).toEqual([`cluster x: discoverer_url must be an http(s) URL like http://host:port, got "${url}"`]);
      },
    );

    it('discoverer_interval_ms must fit a Node timer', () => {
      expect(
        yamlProblems(
          'clusters:\n  x: { type: dynamic, discoverer_url: "http://d:1", discoverer_interval_ms: 2147483648 }\n',
        ),
      ).toEqual(['cluster x: discoverer_interval_ms must be at most 2147483647, got 2147483648']);
    });

    it('the sticky header must be a valid metadata key', () => {
      expect(
        yamlProblems(
          withRoutes(
            '  - prefix: /a\n    cluster: c\n    balancer: { type: sticky_sessions, header: "session id" }',
          ),
        ),
      ).toEqual(['route[0]: balancer.header must be a valid metadata key, got "session id"']);
    });

    it('a cluster id must be non-empty', () => {
      expect(yamlProblems('clusters:\n  "": { type: static, address: "a:1" }\n')).toEqual([
        'cluster "": id must be non-empty',
      ]);
    });
  });

  describe('session_store and session_idle_timeout_ms', () => {
    it('reads a redis store with its url, and a route idle timeout', () => {
      const config = parseGatewayYaml(
        `${withRoutes('  - prefix: /a\n    cluster: c\n    session_idle_timeout_ms: 60000\n    balancer: { type: sticky_sessions, header: s }')}session_store: { type: redis, url: "redis://127.0.0.1:6380" }\n`,
      );
      expect(config.sessionStore).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6380' });
      expect(config.routes[0]?.sessionIdleTimeoutMs).toBe(60_000);
    });

    it.each([
      ['session_store: { type: disk }', 'session_store.type must be memory|redis'],
      [
        'session_store: { type: redis, url: "http://x:1" }',
        'session_store.url must be a redis://host:port, rediss://host:port or redis+cluster://host:port,host:port URL, got "http://x:1"',
      ],
      [
        'session_store: { type: redis, url: "redis://u:secret@x:1,y:2" }',
        'session_store.url must be a redis://host:port, rediss://host:port or redis+cluster://host:port,host:port URL, got "redis://u:***@x:1,y:2"',
      ],
    ])('%s -> %s', (yaml, message) => {
      expect(yamlProblems(yaml)).toEqual([message]);
    });

    it('refuses an idle timeout on a round_robin route, naming the route', () => {
      for (const balancer of ['', '\n    balancer: { type: round_robin }']) {
        expect(
          yamlProblems(
            withRoutes(
              `  - prefix: /a\n    cluster: c\n    balancer: { type: sticky_sessions, header: s }\n  - prefix: /b\n    cluster: c\n    session_idle_timeout_ms: 60000${balancer}`,
            ),
          ),
        ).toEqual(['route[1]: session_idle_timeout_ms applies to sticky_sessions routes only']);
      }
    });

    it('refuses a zero or fractional idle timeout', () => {
      for (const value of ['0', '1.5', '"x"']) {
        expect(
          yamlProblems(
            withRoutes(`  - prefix: /a\n    cluster: c\n    session_idle_timeout_ms: ${value}`),
          )[0],
        ).toMatch(/^route\[0\]: session_idle_timeout_ms must be a positive integer, got /);
      }
    });
  });
});

describe('discoverer tokens of dynamic clusters', () => {
  const withToken = (lines: string) => `${COMPOSE_YAML}${lines.replace(/^/gm, '    ')}\n`;
  const files = (contents: Record<string, string>) => (path: string) => {
    if (path === join(CWD, 'gateway.yaml')) return withToken('discoverer_token_file: secrets/token');
    const content = contents[path];
    if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return content;
  };
  const dynamic = (config: ReturnType<typeof loadGatewayConfig>) =>
    config.clusters.find((cluster) => cluster.id === 'my_service');

  it('reads discoverer_token_file relative to the YAML file, trimmed', () => {
    const config = loadGatewayConfig(VALID_ENV, {
      cwd: CWD,
      readFile: files({ [join(CWD, 'secrets/token')]: 'file-token\n' }),
    });
    expect(dynamic(config)).toMatchObject({
      discovererToken: 'file-token',
      discovererTokenSource: { file: join(CWD, 'secrets/token') },
    });
  });

  it('reads the variable discoverer_token_env names', () => {
    const yaml = withToken('discoverer_token_env: MY_DISCOVERER_TOKEN');
    expect(dynamic(load({ ...VALID_ENV, MY_DISCOVERER_TOKEN: ' env-token ' }, yaml))).toMatchObject({
      discovererToken: 'env-token',
      discovererTokenSource: { env: 'MY_DISCOVERER_TOKEN' },
    });
    expect(dynamic(load(VALID_ENV))?.type === 'dynamic' && dynamic(load(VALID_ENV))).not.toHaveProperty(
      'discovererToken',
    );
  });

  it('refuses a missing file, an unset variable, both at once and a bad variable name, naming the cluster', () => {
    expect(problemsOf(() => loadGatewayConfig(VALID_ENV, { cwd: CWD, readFile: files({}) }))).toEqual([
      `cluster my_service: discoverer_token_file: cannot read ${join(CWD, 'secrets/token')}: ENOENT`,
    ]);
    expect(envProblems(VALID_ENV, withToken('discoverer_token_env: UNSET_TOKEN'))).toEqual([
      'cluster my_service: discoverer_token_env: UNSET_TOKEN is not set',
    ]);
    expect(
      envProblems(VALID_ENV, withToken('discoverer_token_env: T\ndiscoverer_token_file: /run/secrets/t')),
    ).toEqual(['cluster my_service: set discoverer_token_file or discoverer_token_env, not both']);
    expect(envProblems(VALID_ENV, withToken('discoverer_token_env: "not a name"'))).toEqual([
      'cluster my_service: discoverer_token_env must name an environment variable, got "not a name"',
    ]);
  });
});

describe('request header hygiene of routes', () => {
  const route = (lines: string) =>
    withRoutes(`  - prefix: /a\n    cluster: c\n${lines.replace(/^/gm, '    ')}`);

  it('reads strip_request_headers lower-cased, and forward_authorization', () => {
    const config = parseGatewayYaml(
      route('strip_request_headers: [X-Internal, cookie]\nforward_authorization: true'),
    );
    expect(config.routes[0]).toMatchObject({
      stripRequestHeaders: ['x-internal', 'cookie'],
      forwardAuthorization: true,
    });
    expect(parseGatewayYaml(route('authorization: none')).routes[0]).not.toHaveProperty(
      'stripRequestHeaders',
    );
  });

  it.each([
    [
      'strip_request_headers: [":path"]',
      'route[0]: strip_request_headers[0] must not be a pseudo-header, got ":path"',
    ],
    [
      'strip_request_headers: [x-ok, "x y"]',
      'route[0]: strip_request_headers[1] must be a valid header name, got "x y"',
    ],
    [
      'strip_request_headers: [Content-Type]',
      'route[0]: strip_request_headers[0] must not be a header gRPC requires, got "Content-Type"',
    ],
    [
      'strip_request_headers: [te]',
      'route[0]: strip_request_headers[0] must not be a header gRPC requires, got "te"',
    ],
    [
      'strip_request_headers: authorization',
      'routes[0].strip_request_headers: expected a list, got "authorization"',
    ],
    ['forward_authorization: yes', 'routes[0].forward_authorization: expected true or false, got "yes"'],
    [
      'forward_authorization: true\nstrip_request_headers: [Authorization]',
      'route[0]: forward_authorization: true contradicts strip_request_headers naming authorization',
    ],
    [
      'forward_authorization: true\nauthorization: required',
      'route[0]: forward_authorization applies to authorization: none routes only (authorization: required routes forward the token)',
    ],
  ])('%s -> %s', (lines, message) => {
    expect(yamlProblems(route(lines))).toEqual([message]);
  });
});

describe('JWT secrets from files and the previous secret', () => {
  const {
    dir,
    paths: { jwt: secretFile, empty: emptyFile },
  } = writeTempFiles('gateway-jwt-', { jwt: 'file-secret-value\n', empty: '\n' });
  const { JWT_SECRET: _inline, ...withoutSecret } = VALID_ENV;
  const loadReal = (env: Record<string, string | undefined>) =>
    loadGatewayConfig(env, {
      cwd: CWD,
      readFile: (path) => (path === join(CWD, 'gateway.yaml') ? COMPOSE_YAML : readFileSync(path, 'utf8')),
    });

  it('reads JWT_SECRET_FILE and JWT_SECRET_PREVIOUS(_FILE), trimmed', () => {
    const config = loadReal({ ...withoutSecret, JWT_SECRET_FILE: secretFile, JWT_SECRET_PREVIOUS: ' old ' });
    expect(config.jwtSecret).toBe('file-secret-value');
    expect(config.jwtPreviousSecret).toBe('old');
    expect(loadReal({ ...VALID_ENV, JWT_SECRET_PREVIOUS_FILE: secretFile }).jwtPreviousSecret).toBe(
      'file-secret-value',
    );
    expect(loadReal(VALID_ENV)).not.toHaveProperty('jwtPreviousSecret');
  });

  it('refuses both forms at once, an unreadable or empty file, and a previous secret alone, never echoing a secret', () => {
    const refusals = (env: Record<string, string | undefined>) => problemsOf(() => loadReal(env));
    const both = refusals({ ...VALID_ENV, JWT_SECRET: 'inline-secret-value', JWT_SECRET_FILE: secretFile });
    expect(both).toEqual(['JWT_SECRET and JWT_SECRET_FILE are both set: set only one of them']);
    expect(refusals({ ...withoutSecret, JWT_SECRET_FILE: join(dir, 'missing') })).toEqual([
      `JWT_SECRET_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
    ]);
    expect(refusals({ ...withoutSecret, JWT_SECRET_FILE: emptyFile })).toEqual([
      `JWT_SECRET_FILE: ${emptyFile} is empty`,
    ]);
    expect(
      refusals({
        ...VALID_ENV,
        JWT_SECRET_PREVIOUS: 'previous-secret-value',
        JWT_SECRET_PREVIOUS_FILE: secretFile,
      }),
    ).toEqual(['JWT_SECRET_PREVIOUS and JWT_SECRET_PREVIOUS_FILE are both set: set only one of them']);
    const alone = refusals({ ...withoutSecret, JWT_SECRET_PREVIOUS: 'previous-secret-value' });
    expect(alone).toEqual([
      'JWT_SECRET is required when at least one route has authorization=required',
      'JWT_SECRET_PREVIOUS is set without JWT_SECRET: the previous secret only adds to the current one',
    ]);
    const text = [both, alone].flat().join('\n');
    for (const secret of ['inline-secret-value', 'previous-secret-value', 'file-secret-value']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('cluster types added by an embedder (LoadConfigOptions.clusterTypes)', () => {
  const clusterTypes = {
    weighted: Type.Object({
      split: Type.Array(Type.String(), { minItems: 1 }),
      spare: Type.Integer({ default: 7 }),
    }),
  };
  const withWeighted = (cluster: string) =>
    `routes:\n  - { prefix: /a/, cluster: w }\nclusters:\n  w: ${cluster}\n  s: { type: static, address: "h:1" }\n`;
  const loadWith = (
    yaml: string,
    options: Partial<LoadConfigOptions> = {},
    env: Record<string, string | undefined> = VALID_ENV,
  ) => loadGatewayConfig(env, { cwd: CWD, readFile: () => yaml, clusterTypes, ...options });

  it('checks the fields with the type schema and hands them on as an extension cluster, defaults applied', () => {
    const config = loadWith(withWeighted('{ type: weighted, split: [s] }'));
    expect(config.clusters[0]).toEqual({
      type: 'extension',
      id: 'w',
      extensionType: 'weighted',
      settings: { type: 'weighted', split: ['s'], spare: 7 },
    });
    expect(config.clusters[1]).toEqual({ type: 'static', id: 's', address: 'h:1' });
  });

  it('refuses a wrong field naming it, and names the added type among the valid ones', () => {
    expect(problemsOf(() => loadWith(withWeighted('{ type: weighted, split: [] }')))).toEqual([
      'clusters.w.split must NOT have fewer than 1 items',
    ]);
    expect(problemsOf(() => loadWith(withWeighted('{ type: other }')))).toEqual([
      'cluster w: type must be static|dynamic|weighted',
    ]);
  });

  it('refuses the type without the option, as before', () => {
    expect(envProblems(VALID_ENV, withWeighted('{ type: weighted, split: [s] }'))).toEqual([
      'cluster w: type must be static|dynamic',
    ]);
  });

  it('needs no JWT_SECRET for authorization: required routes when the embedder validates tokens', () => {
    const yaml =
      'routes:\n  - { prefix: /a/, cluster: s, authorization: required }\nclusters:\n  s: { type: static, address: "h:1" }\n';
    const env = { ...VALID_ENV, JWT_SECRET: undefined };
    expect(envProblems(env, yaml)).toEqual([
      'JWT_SECRET is required when at least one route has authorization=required',
    ]);
    expect(loadWith(yaml, { requireJwtSecret: false }, env).jwtSecret).toBeUndefined();
  });
});
