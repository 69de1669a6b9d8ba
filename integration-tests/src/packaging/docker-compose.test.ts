import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../harness/repo-paths.js';
import {
  buildOf,
  COMPOSE_SECRETS_DIR,
  dependenciesOf,
  effectiveEnvironmentOf,
  envFilesOf,
  environmentOf,
  generatedComposeSecrets,
  readComposeFile,
  readEnvFile,
} from './test-support/compose-file.js';
import { ENV_CONTRACTS } from './test-support/env-contract.js';

const compose = readComposeFile();
const APP_SERVICES = ['mydiscoverer', 'myauth', 'myservice', 'mygateway', 'mygateway-2'] as const;
const GATEWAYS = ['mygateway', 'mygateway-2'] as const;
const WORKSPACE_OF = {
  mydiscoverer: 'discoverer',
  myauth: 'auth',
  myservice: 'service',
  mygateway: 'gateway',
  'mygateway-2': 'gateway',
} as const;
/** The env contract a service is held to: the second gateway is a replica of the first. */
const contractNameOf = (service: string) => (service === 'mygateway-2' ? 'mygateway' : service);

/** Every `.ts` source of a workspace except tests, concatenated. */
function sourcesOf(workspace: string): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        if (entry !== 'test-support') walk(path);
      } else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) {
        texts.push(readFileSync(path, 'utf8'));
      }
    }
  };
  walk(join(REPO_ROOT, workspace, 'src'));
  return texts.join('\n');
}

describe('docker-compose.yml (REFERENCE.md 1.3)', () => {
  it('has exactly the reference services', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'myauth',
      'mydiscoverer',
      'mygateway',
      'mygateway-2',
      'myservice',
      'redis',
    ]);
  });

  it('runs mygateway-2 as a replica of mygateway: the same service but for its host port', () => {
    const { ports: _first, ...gateway } = compose.services.mygateway ?? {};
    const { ports: _second, ...replica } = compose.services['mygateway-2'] ?? {};
    expect(replica).toEqual(gateway);
    expect(gateway.image).toBe('stickygw/gateway:dev');
  });

  it("checks each gateway's health with the image's HEALTHCHECK: GET /readyz of the admin listener", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'gateway', 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const healthCheck = /^HEALTHCHECK .*?\bCMD node -e "(.*)"$/m.exec(dockerfile)?.[1];
    expect(healthCheck).toContain("'/readyz'");
    for (const name of GATEWAYS) {
      expect(compose.services[name]?.healthcheck?.test, name).toEqual(['CMD', 'node', '-e', healthCheck]);
    }
  });

  it('names every application image stickygw/<workspace>:dev, the images deploy/kubernetes runs', () => {
    for (const name of APP_SERVICES)
      expect(compose.services[name]?.image, name).toBe(`stickygw/${WORKSPACE_OF[name]}:dev`);
  });

  it('runs redis 7 with a PING health check, published on host port 6380', () => {
    const redis = compose.services.redis;
    expect(redis?.image).toBe('redis:7-alpine');
    expect(redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis?.ports).toEqual(['6380:6379']);
  });

  it('builds every application service from the repository root with its workspace Dockerfile', () => {
    for (const name of APP_SERVICES) {
      const build = buildOf(compose.services[name] ?? {});
      expect(build, name).toEqual({ context: '.', dockerfile: `${WORKSPACE_OF[name]}/Dockerfile` });
      if (build === undefined) continue;
      expect(statSync(join(REPO_ROOT, build.context)).isDirectory(), `${name} context`).toBe(true);
      expect(existsSync(join(REPO_ROOT, build.context, build.dockerfile)), `${name} Dockerfile`).toBe(true);
      expect(existsSync(join(REPO_ROOT, WORKSPACE_OF[name], 'package.json')), `${name} workspace`).toBe(true);
    }
  });

  it('scales the worker to three replicas', () => {
    expect(compose.services.myservice?.deploy?.replicas).toBe(3);
  });

  it('publishes only the gateways on 10000 and 10001 and Redis on 6380', () => {
    expect(compose.services.mygateway?.ports).toEqual(['10000:10000']);
    expect(compose.services['mygateway-2']?.ports).toEqual(['10001:10000']);
    for (const name of ['mydiscoverer', 'myauth', 'myservice'])
      expect(compose.services[name]?.ports, name).toBeUndefined();
  });

  it('gives each service only variables of its env contract, and all the required ones', () => {
    for (const name of APP_SERVICES) {
      const contract = ENV_CONTRACTS[contractNameOf(name)];
      const env = effectiveEnvironmentOf(compose.services[name] ?? {});
      if (contract === undefined) throw new Error(`no contract for ${name}`);
      for (const variable of Object.keys(env))
        expect(contract.known, `${name}: ${variable}`).toContain(variable);
      for (const variable of contract.required) expect(env[variable], `${name}: ${variable}`).toBeTruthy();
    }
  });

  it('names only variables the service code actually reads', () => {
    for (const name of APP_SERVICES) {
      const sources = sourcesOf(WORKSPACE_OF[name]);
      // The gateway reads its discoverer token from the variable its YAML names (discoverer_token_env).
      const namedByYaml = WORKSPACE_OF[name] === 'gateway' ? ['DISCOVERER_TOKEN'] : [];
      const variables = Object.keys(effectiveEnvironmentOf(compose.services[name] ?? {}));
      for (const variable of variables.filter((v) => !namedByYaml.includes(v))) {
        expect(sources.includes(variable), `${WORKSPACE_OF[name]}/src never mentions ${variable}`).toBe(true);
      }
    }
  });

  it('listens on all interfaces inside the containers (services default to loopback)', () => {
    for (const name of APP_SERVICES)
      expect(environmentOf(compose.services[name] ?? {}).LISTEN_HOST, name).toBe('0.0.0.0');
  });

  it('shares one JWT secret between auth, workers and gateway', () => {
    const secrets = ['myauth', 'myservice', ...GATEWAYS].map(
      (name) => environmentOf(compose.services[name] ?? {}).JWT_SECRET,
    );
    expect(new Set(secrets)).toEqual(new Set(['dev-secret-change-in-prod']));
  });

  it('uses the reference values for ports, TTLs and retries', () => {
    expect(environmentOf(compose.services.mydiscoverer ?? {})).toMatchObject({ SERVICE_PORT_HTTP: '8080' });
    expect(environmentOf(compose.services.myauth ?? {})).toMatchObject({
      SERVICE_PORT_GRPC: '5001',
      TOKEN_EXPIRATION: '1h',
    });
    // REDIS_ADDR comes from the env file, as the service's own ACL user.
    for (const [name, user] of [
      ['mydiscoverer', 'discoverer'],
      ['myauth', 'auth'],
    ] as const) {
      const url = new URL(effectiveEnvironmentOf(compose.services[name] ?? {}).REDIS_ADDR ?? '');
      expect([url.protocol, url.host, url.username], name).toEqual(['redis:', 'redis:6379', user]);
      expect(url.password, name).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(environmentOf(compose.services.myservice ?? {})).toMatchObject({
      SERVICE_PORT_GRPC: '5000',
      MY_DISCOVERER_URL: 'http://mydiscoverer:8080',
      REGISTRATION_TTL_MS: '300000',
      REGISTRATION_HEARTBEAT_INTERVAL_MS: '120000',
    });
    for (const name of GATEWAYS) {
      expect(environmentOf(compose.services[name] ?? {}), name).toMatchObject({
        SERVICE_PORT_GRPC: '10000',
        CONFIG_PATH: '/etc/mygateway/gateway.yaml',
        RETRY_COUNT: '3',
        RETRY_TIMEOUT_MS: '5000',
      });
    }
  });

  it('does not pin worker identities: replicas register under their container hostname', () => {
    const env = environmentOf(compose.services.myservice ?? {});
    expect(env.INSTANCE_ID).toBeUndefined();
    expect(env.HOSTNAME).toBeUndefined();
    expect(env.DISCOVERABLE_HOST).toBeUndefined();
  });

  it('mounts config/gateway.docker.yaml at CONFIG_PATH through the gateway_yaml config', () => {
    expect(compose.configs?.gateway_yaml?.file).toBe('./config/gateway.docker.yaml');
    expect(existsSync(join(REPO_ROOT, 'config', 'gateway.docker.yaml'))).toBe(true);
    for (const name of GATEWAYS) {
      expect(compose.services[name]?.configs, name).toEqual([
        { source: 'gateway_yaml', target: '/etc/mygateway/gateway.yaml' },
      ]);
    }
  });

  it('starts services after what they need', () => {
    const depends = (name: string) => compose.services[name]?.depends_on;
    expect(depends('mydiscoverer')).toEqual({ redis: { condition: 'service_healthy' } });
    expect(depends('myauth')).toEqual({ redis: { condition: 'service_healthy' } });
    expect(dependenciesOf(compose.services.myservice ?? {})).toEqual(['mydiscoverer']);
    for (const name of GATEWAYS) {
      expect(dependenciesOf(compose.services[name] ?? {}).sort(), name).toEqual([
        'myauth',
        'mydiscoverer',
        'myservice',
      ]);
    }
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of dependenciesOf(service))
        expect(compose.services, `${name} → ${dependency}`).toHaveProperty(dependency);
    }
  });

  it('attaches every service to the one bridge network appnet', () => {
    expect(compose.networks).toEqual({ appnet: { driver: 'bridge' } });
    for (const [name, service] of Object.entries(compose.services))
      expect(service.networks, name).toEqual(['appnet']);
  });

  it('points the gateway config at the compose services and their ports', () => {
    const config = parse(readFileSync(join(REPO_ROOT, 'config', 'gateway.docker.yaml'), 'utf8')) as {
      clusters: { myauth: { address: string }; my_service: { discoverer_url: string } };
      session_store: { type: string; url: string };
    };
    const [authHost, authPort] = config.clusters.myauth.address.split(':');
    expect(authHost).toBe('myauth');
    expect(authPort).toBe(environmentOf(compose.services.myauth ?? {}).SERVICE_PORT_GRPC);
    const discoverer = new URL(config.clusters.my_service.discoverer_url);
    expect(discoverer.hostname).toBe('mydiscoverer');
    expect(discoverer.port).toBe(environmentOf(compose.services.mydiscoverer ?? {}).SERVICE_PORT_HTTP);
    // Both gateways share their bindings through the compose Redis, at its container port.
    expect(config.session_store).toEqual({ type: 'redis', url: 'redis://redis:6379' });
    expect(compose.services, 'session store host').toHaveProperty(new URL(config.session_store.url).hostname);
  });
});

describe('docker-compose.yml secrets (README "Security")', () => {
  const secretsDir = generatedComposeSecrets();
  const envFile = (service: string) => readEnvFile(join(secretsDir, `${service}.env`));

  it('reads every secret from an env file make up writes into .stack/secrets/, one per service', () => {
    const expected: Record<string, string[]> = {
      redis: [`${COMPOSE_SECRETS_DIR}/redis.env`],
      mydiscoverer: [`${COMPOSE_SECRETS_DIR}/discoverer.env`],
      myauth: [`${COMPOSE_SECRETS_DIR}/auth.env`],
      myservice: [`${COMPOSE_SECRETS_DIR}/service.env`],
      mygateway: [`${COMPOSE_SECRETS_DIR}/gateway.env`],
      'mygateway-2': [`${COMPOSE_SECRETS_DIR}/gateway.env`],
    };
    for (const [name, files] of Object.entries(expected)) {
      expect(envFilesOf(compose.services[name] ?? {}), name).toEqual(files);
      for (const file of files)
        expect(existsSync(join(secretsDir, file.split('/').at(-1) ?? '')), file).toBe(true);
    }
    // No secret is written into the compose file itself.
    for (const name of APP_SERVICES) {
      const env = environmentOf(compose.services[name] ?? {});
      for (const variable of ['REDIS_ADDR', 'SESSION_STORE_URL', 'DISCOVERER_TOKEN'])
        expect(env[variable], `${name}: ${variable}`).toBeUndefined();
    }
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.stack/');
  });

  it('gives each service only its own secrets, the one discoverer token to all that need it', () => {
    expect(Object.keys(envFile('discoverer')).sort()).toEqual(['DISCOVERER_TOKEN', 'REDIS_ADDR']);
    expect(Object.keys(envFile('auth'))).toEqual(['REDIS_ADDR']);
    expect(Object.keys(envFile('service'))).toEqual(['DISCOVERER_TOKEN']);
    expect(Object.keys(envFile('gateway')).sort()).toEqual(['DISCOVERER_TOKEN', 'SESSION_STORE_URL']);
    const token = envFile('discoverer').DISCOVERER_TOKEN;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(envFile('service').DISCOVERER_TOKEN).toBe(token);
    expect(envFile('gateway').DISCOVERER_TOKEN).toBe(token);
    const store = new URL(envFile('gateway').SESSION_STORE_URL ?? '');
    expect([store.host, store.username]).toEqual(['redis:6379', 'gateway']);
    const passwords = [envFile('discoverer').REDIS_ADDR, envFile('auth').REDIS_ADDR, store.href].map(
      (url) => new URL(url ?? '').password,
    );
    expect(new Set(passwords).size).toBe(3);
  });

  it('starts Redis with the ACL file (default password, a user per service) and a health check that authenticates', () => {
    const redis = compose.services.redis;
    expect(redis?.command).toEqual([
      'redis-server',
      '--appendonly',
      'no',
      '--aclfile',
      '/etc/redis/users.acl',
    ]);
    expect(redis?.volumes).toEqual([`./${COMPOSE_SECRETS_DIR}/redis.acl:/etc/redis/users.acl:ro`]);
    expect(Object.keys(envFile('redis'))).toEqual(['REDISCLI_AUTH']);
    const acl = readFileSync(join(secretsDir, 'redis.acl'), 'utf8');
    expect(acl).toMatch(new RegExp(`^user default on >${envFile('redis').REDISCLI_AUTH} `));
    for (const user of ['auth', 'discoverer', 'gateway'])
      expect(acl).toMatch(new RegExp(`^user ${user} on >`, 'm'));
  });

  it('names the token in the gateway config by discoverer_token_env', () => {
    const config = parse(readFileSync(join(REPO_ROOT, 'config', 'gateway.docker.yaml'), 'utf8')) as {
      clusters: { my_service: { discoverer_token_env?: string } };
    };
    expect(config.clusters.my_service.discoverer_token_env).toBe('DISCOVERER_TOKEN');
  });
});

describe('.dockerignore', () => {
  it('keeps build output, dependencies, git data and local stack state out of the context', () => {
    const lines = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.stack']) expect(lines).toContain(pattern);
  });
});
