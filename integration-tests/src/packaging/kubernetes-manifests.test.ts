import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../harness/repo-paths.js';
import { redisAclFile } from '../harness/stack-secrets.js';
import { effectiveEnvironmentOf, environmentOf, readComposeFile } from './test-support/compose-file.js';

const KUSTOMIZATION = join(REPO_ROOT, 'deploy', 'kubernetes');

/** The parts of a rendered manifest these tests read; kubernetes-models checks the rest. */
interface Probe {
  exec?: { command?: string[] };
  grpc?: { port: number };
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
}
interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: Record<string, string> & { matchLabels?: Record<string, string> };
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: {
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
      };
    };
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  };
  data?: Record<string, string>;
}

/** Every kind the base may contain, with the model that validates it against the API schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
};

function render(): string {
  try {
    return execFileSync('kubectl', ['kustomize', KUSTOMIZATION], { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('kubectl is missing: make install (scripts/ensure-system-deps.sh) installs it');
    throw error;
  }
}

/**
 * kustomize wraps long base64 Secret values over several lines; the API server's decoder skips the
 * newlines, the schema's `byte` format does not, so they are joined here.
 */
function unwrapSecretData(manifest: Manifest): Manifest {
  if (manifest.kind !== 'Secret' || manifest.data === undefined) return manifest;
  const data = Object.fromEntries(
    Object.entries(manifest.data).map(([key, value]) => [key, value.replace(/\s/g, '')]),
  );
  return { ...manifest, data };
}

const manifests = parseAllDocuments(render()).map((document) =>
  unwrapSecretData(document.toJS() as Manifest),
);
const deployments = manifests.filter((m) => m.kind === 'Deployment');
const services = manifests.filter((m) => m.kind === 'Service');

function named(kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered base`);
  return found;
}

/** The one container of a Deployment (each runs one). */
function containerOf(deployment: Manifest): Container {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  expect(containers, deployment.metadata.name).toHaveLength(1);
  return containers[0] as Container;
}

function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).flatMap((v) => (v.value === undefined ? [] : [[v.name, v.value]])),
  );
}

/** A named or numbered port of a container, as a number. */
function containerPort(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

const generatedConfig = () => {
  const config = manifests.find(
    (m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('mygateway-config'),
  );
  if (config?.data?.['gateway.yaml'] === undefined)
    throw new Error('no generated mygateway-config ConfigMap');
  return config;
};

describe('deploy/kubernetes (kustomize base)', () => {
  it('renders the whole stack: redis, discoverer, auth, workers and the gateway', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      'myauth',
      'mydiscoverer',
      'mygateway',
      'myservice',
      'redis',
    ]);
    expect(services.map((s) => s.metadata.name).sort()).toEqual([
      'myauth',
      'mydiscoverer',
      'mygateway',
      'redis',
    ]);
  });

  it('validates every rendered document against the Kubernetes API schema (kubernetes-models)', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const manifest of manifests) {
      const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(Model, `${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      if (Model === undefined) continue;
      expect(
        () => new Model(manifest as never).validate(),
        `${manifest.kind} ${manifest.metadata.name}`,
      ).not.toThrow();
    }
  });

  it('the validation catches a wrong type', () => {
    const gateway = structuredClone(named('Deployment', 'mygateway'));
    (gateway.spec as { replicas: unknown }).replicas = 'two';
    expect(() => new Deployment(gateway as never).validate()).toThrow('must be integer');
  });

  it('runs two gateway replicas that roll out without dropping below two', () => {
    const gateway = named('Deployment', 'mygateway') as Manifest & {
      spec: { strategy?: { rollingUpdate?: { maxUnavailable?: number } } };
    };
    expect(gateway.spec.replicas).toBe(2);
    expect(gateway.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });

  it('gives every container a readiness and a liveness probe on a port it listens on', () => {
    for (const deployment of deployments) {
      const container = containerOf(deployment);
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(probe, deployment.metadata.name).toBeDefined();
        const port = probe?.grpc?.port ?? probe?.httpGet?.port ?? probe?.tcpSocket?.port;
        if (port !== undefined) {
          expect(
            containerPort(container, port),
            `${deployment.metadata.name} probe port ${port}`,
          ).toBeDefined();
        } else {
          expect(probe?.exec?.command?.length, deployment.metadata.name).toBeGreaterThan(0);
        }
      }
    }
  });

  it("probes the gateway's readiness with the Dockerfile's HEALTHCHECK (/readyz) and its liveness with /healthz", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'gateway', 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const healthCheck = /^HEALTHCHECK .*?\bCMD node -e "(.*)"$/m.exec(dockerfile)?.[1];
    expect(healthCheck).toBeDefined();
    const gateway = containerOf(named('Deployment', 'mygateway'));
    expect(gateway.readinessProbe?.exec?.command).toEqual(['node', '-e', healthCheck]);
    expect(healthCheck).toContain("'/readyz'");
    expect(gateway.livenessProbe?.exec?.command).toEqual([
      'node',
      '-e',
      healthCheck?.replace("'/readyz'", "'/healthz'"),
    ]);
  });

  it('mounts the generated ConfigMap at CONFIG_PATH, with the Redis session store', () => {
    const config = generatedConfig();
    const gateway = named('Deployment', 'mygateway');
    const container = containerOf(gateway);
    const volume = gateway.spec?.template?.spec?.volumes?.find(
      (v) => v.configMap?.name === config.metadata.name,
    );
    expect(volume, 'a volume of the generated (hashed) ConfigMap').toBeDefined();
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(`${mount?.mountPath}/gateway.yaml`).toBe(envOf(container).CONFIG_PATH);
    const yaml = parse(config.data?.['gateway.yaml'] as string) as {
      session_store?: { type: string; url: string };
    };
    expect(yaml.session_store).toEqual({ type: 'redis', url: 'redis://redis:6379' });
  });

  it('carries the compose gateway config: the Services have the compose service names', () => {
    const compose = parse(readFileSync(join(REPO_ROOT, 'config', 'gateway.docker.yaml'), 'utf8'));
    expect(parse(generatedConfig().data?.['gateway.yaml'] as string)).toEqual(compose);
  });

  it('runs the images and the environment of the compose services', () => {
    const compose = readComposeFile();
    for (const deployment of deployments) {
      const service = compose.services[deployment.metadata.name];
      expect(service, `compose service ${deployment.metadata.name}`).toBeDefined();
      const container = containerOf(deployment);
      expect(container.image, deployment.metadata.name).toBe(service?.image);
      // Every compose value, the secret from a Secret (checked below); the workers also get the
      // address compose auto-detects, from the pod IP.
      const composeEnv = effectiveEnvironmentOf(service ?? {});
      for (const [name, value] of Object.entries(composeEnv)) {
        const entry = container.env?.find((v) => v.name === name);
        if (entry?.valueFrom?.secretKeyRef === undefined)
          expect(entry?.value, `${deployment.metadata.name}: ${name}`).toBe(value);
      }
      const added = (container.env ?? []).map((v) => v.name).filter((name) => !(name in composeEnv));
      expect(added, deployment.metadata.name).toEqual(
        deployment.metadata.name === 'myservice' ? ['DISCOVERABLE_HOST'] : [],
      );
    }
  });

  it('takes JWT_SECRET from the generated Secret in auth, the workers and the gateway', () => {
    const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name.startsWith('stickygw-jwt'));
    const composeSecret = environmentOf(readComposeFile().services.mygateway ?? {}).JWT_SECRET;
    expect(Buffer.from(secret?.data?.JWT_SECRET ?? '', 'base64').toString()).toBe(composeSecret);
    for (const name of ['myauth', 'myservice', 'mygateway']) {
      const ref = containerOf(named('Deployment', name)).env?.find((v) => v.name === 'JWT_SECRET')?.valueFrom
        ?.secretKeyRef;
      expect(ref, name).toEqual({ name: secret?.metadata.name, key: 'JWT_SECRET' });
    }
  });

  it('takes the discoverer token and the Redis URLs from Secrets, and holds the ACL file to the stack rules', () => {
    const secret = (prefix: string) => {
      const found = manifests.find((m) => m.kind === 'Secret' && m.metadata.name.startsWith(prefix));
      if (found === undefined) throw new Error(`no Secret ${prefix}`);
      return found;
    };
    const decoded = (manifest: Manifest, key: string) =>
      Buffer.from(manifest.data?.[key] ?? '', 'base64').toString();
    const registry = secret('stickygw-registry');
    const redis = secret('stickygw-redis');
    const refOf = (deployment: string, variable: string) =>
      containerOf(named('Deployment', deployment)).env?.find((v) => v.name === variable)?.valueFrom
        ?.secretKeyRef;
    for (const name of ['mydiscoverer', 'myservice', 'mygateway'])
      expect(refOf(name, 'DISCOVERER_TOKEN'), name).toEqual({
        name: registry.metadata.name,
        key: 'DISCOVERER_TOKEN',
      });
    expect(refOf('mydiscoverer', 'REDIS_ADDR')).toEqual({
      name: redis.metadata.name,
      key: 'discoverer-redis-url',
    });
    expect(refOf('myauth', 'REDIS_ADDR')).toEqual({ name: redis.metadata.name, key: 'auth-redis-url' });
    expect(refOf('mygateway', 'SESSION_STORE_URL')).toEqual({
      name: redis.metadata.name,
      key: 'gateway-redis-url',
    });
    expect(refOf('redis', 'REDISCLI_AUTH')).toEqual({ name: redis.metadata.name, key: 'admin-password' });
    const password = (key: string, user: string) => {
      const url = new URL(decoded(redis, key));
      expect(url.username, key).toBe(user);
      return url.password;
    };
    expect(decoded(redis, 'users.acl')).toBe(
      redisAclFile({
        discovererToken: decoded(registry, 'DISCOVERER_TOKEN'),
        redisAdminPassword: decoded(redis, 'admin-password'),
        redisAuthPassword: password('auth-redis-url', 'auth'),
        redisDiscovererPassword: password('discoverer-redis-url', 'discoverer'),
        redisGatewayPassword: password('gateway-redis-url', 'gateway'),
      }),
    );
    const redisPod = named('Deployment', 'redis').spec?.template?.spec;
    expect(redisPod?.volumes?.find((v) => v.name === 'acl')?.secret?.secretName).toBe(redis.metadata.name);
    expect(redisPod?.containers[0]?.volumeMounts).toEqual([
      { name: 'acl', mountPath: '/etc/redis', readOnly: true },
    ]);
  });

  it("selects a Deployment's pods with every Service and Deployment, on ports they listen on", () => {
    for (const deployment of deployments) {
      const labels = deployment.spec?.template?.metadata?.labels ?? {};
      expect(labels, deployment.metadata.name).toMatchObject(
        deployment.spec?.selector?.matchLabels ?? { missing: true },
      );
    }
    for (const service of services) {
      const selector = service.spec?.selector ?? {};
      expect(Object.keys(selector).length, service.metadata.name).toBeGreaterThan(0);
      const selected = deployments.filter((d) =>
        Object.entries(selector).every(([key, value]) => d.spec?.template?.metadata?.labels?.[key] === value),
      );
      expect(
        selected.map((d) => d.metadata.name),
        service.metadata.name,
      ).toEqual([service.metadata.name]);
      const container = containerOf(selected[0] as Manifest);
      for (const port of service.spec?.ports ?? []) {
        const target = containerPort(container, port.targetPort ?? port.port);
        expect(target, `${service.metadata.name} → ${port.targetPort}`).toBeDefined();
        expect(target, `${service.metadata.name} port`).toBe(port.port);
      }
    }
  });

  it('points every address in the config and the environment at a Service port', () => {
    const servicePort = (host: string) =>
      services.find((s) => s.metadata.name === host)?.spec?.ports?.map((p) => p.port) ?? [];
    const config = parse(generatedConfig().data?.['gateway.yaml'] as string) as {
      clusters: { myauth: { address: string }; my_service: { discoverer_url: string } };
      session_store: { url: string };
    };
    const urls = [
      `grpc://${config.clusters.myauth.address}`,
      config.clusters.my_service.discoverer_url,
      config.session_store.url,
      ...deployments.flatMap((d) =>
        Object.entries(envOf(containerOf(d)))
          .filter(([name]) => name === 'REDIS_ADDR' || name === 'MY_DISCOVERER_URL')
          .map(([, url]) => url),
      ),
      // The services' Redis URLs, with their passwords, live in the stickygw-redis Secret.
      ...manifests
        .filter((m) => m.kind === 'Secret' && m.metadata.name.startsWith('stickygw-redis'))
        .flatMap((m) => Object.entries(m.data ?? {}))
        .filter(([key]) => key.endsWith('-redis-url'))
        .map(([, value]) => Buffer.from(value, 'base64').toString()),
    ].map((url) => new URL(url));
    expect(urls.length).toBe(7);
    for (const url of urls) expect(servicePort(url.hostname), url.href).toContain(Number(url.port));
    // Each server listens on the port its environment names.
    for (const deployment of deployments) {
      const container = containerOf(deployment);
      const env = envOf(container);
      const listen = env.SERVICE_PORT_GRPC ?? env.SERVICE_PORT_HTTP;
      if (listen !== undefined)
        expect(
          container.ports?.map((p) => p.containerPort),
          deployment.metadata.name,
        ).toEqual([Number(listen)]);
    }
  });
});
