import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@stickygw/servicekit';
import { generateTestCertificates, type TestCertificates, thrownBy } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './load-config.js';

let certs: TestCertificates;
beforeAll(() => {
  certs = generateTestCertificates();
});
afterAll(() => certs.remove());

const YAML = (tls: string) => `
routes:
  - prefix: /svc.S/
    cluster: secure
clusters:
  secure:
    type: static
    address: localhost:5001
${tls}
`;

function envWith(extra: Record<string, string>, yaml = YAML('')): Record<string, string> {
  writeFileSync(join(certs.dir, 'gateway.yaml'), yaml);
  return {
    SERVICE_PORT_GRPC: '9000',
    CONFIG_PATH: 'gateway.yaml',
    RETRY_COUNT: '3',
    RETRY_TIMEOUT_MS: '1000',
    ...extra,
  };
}

const load = (env: Record<string, string>) => loadGatewayConfig(env, { cwd: certs.dir });

const problemsOf = (env: Record<string, string>): readonly string[] =>
  thrownBy(ConfigError, () => load(env)).problems;

describe('downstream TLS settings', () => {
  it('reads TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE (relative to the working directory)', () => {
    const config = load(
      envWith({ TLS_CERT_FILE: 'server.pem', TLS_KEY_FILE: 'server-key.pem', TLS_CLIENT_CA_FILE: 'ca.pem' }),
    );
    expect(config.tls).toEqual({
      certFile: certs.server.certFile,
      cert: certs.server.cert,
      keyFile: certs.server.keyFile,
      key: certs.server.key,
      clientCaFile: certs.ca.certFile,
      clientCa: certs.ca.cert,
    });
  });

  it('is cleartext without them', () => {
    expect(load(envWith({})).tls).toBeUndefined();
  });

  it('needs both files, and a CA only with them, naming the variable', () => {
    expect(problemsOf(envWith({ TLS_CERT_FILE: 'server.pem' }))).toEqual([
      'TLS_KEY_FILE is required when TLS_CERT_FILE is set',
    ]);
    expect(problemsOf(envWith({ TLS_KEY_FILE: 'server-key.pem' }))).toEqual([
      'TLS_CERT_FILE is required when TLS_KEY_FILE is set',
    ]);
    expect(problemsOf(envWith({ TLS_CLIENT_CA_FILE: 'ca.pem' }))).toEqual([
      'TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS)',
    ]);
  });

  it('refuses unreadable files and a key of another certificate, with every problem at once', () => {
    expect(
      problemsOf(
        envWith({
          TLS_CERT_FILE: 'missing.pem',
          TLS_KEY_FILE: 'server-key.pem',
          TLS_CLIENT_CA_FILE: 'nope.pem',
        }),
      ),
    ).toEqual([
      `TLS_CERT_FILE: cannot read ${join(certs.dir, 'missing.pem')}: ENOENT`,
      `TLS_CLIENT_CA_FILE: cannot read ${join(certs.dir, 'nope.pem')}: ENOENT`,
    ]);
    const [mismatch, ...rest] = problemsOf(
      envWith({ TLS_CERT_FILE: 'server.pem', TLS_KEY_FILE: 'client-key.pem' }),
    );
    expect(rest).toEqual([]);
    expect(mismatch).toMatch(
      /^TLS_CERT_FILE .*server\.pem and TLS_KEY_FILE .*client-key\.pem are not a usable certificate and key: /,
    );
  });
});

describe('upstream TLS of a cluster (YAML tls)', () => {
  it('reads the files relative to the YAML file, with server_name', () => {
    const config = load(
      envWith(
        {},
        YAML(
          '    tls: { ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem, server_name: svc.internal }',
        ),
      ),
    );
    expect(config.clusters[0]).toEqual({
      type: 'static',
      id: 'secure',
      address: 'localhost:5001',
      tls: {
        caFile: certs.ca.certFile,
        ca: certs.ca.cert,
        certFile: certs.client.certFile,
        cert: certs.client.cert,
        keyFile: certs.client.keyFile,
        key: certs.client.key,
        serverName: 'svc.internal',
      },
    });
  });

  it('an empty tls mapping is TLS with the system CAs', () => {
    expect(load(envWith({}, YAML('    tls: {}'))).clusters[0]).toMatchObject({ tls: {} });
  });

  it('refuses unreadable files and half a client certificate, naming the cluster and the field', () => {
    expect(problemsOf(envWith({}, YAML('    tls: { ca_file: none.pem, cert_file: client.pem }')))).toEqual([
      'cluster secure: tls.key_file is required when tls.cert_file is set',
      `cluster secure: tls.ca_file: cannot read ${join(certs.dir, 'none.pem')}: ENOENT`,
    ]);
    expect(problemsOf(envWith({}, YAML('    tls: yes')))).toEqual([
      'cluster secure: tls must be a mapping, got "yes"',
    ]);
  });
});
