import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates, type TestCertificates } from './test-certificates.js';

describe('generateTestCertificates', () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = generateTestCertificates();
  });
  afterAll(() => certs.remove());

  /** `openssl verify`'s verdict, `OK` or its error line. */
  const verify = (caFile: string, certFile: string): string => {
    try {
      return execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { stdio: 'pipe' }).toString();
    } catch (error) {
      const failed = error as { stdout?: Buffer; stderr?: Buffer };
      return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
  };

  it('issues leaves that chain to their CA, with their names and keys', () => {
    expect(verify(certs.ca.certFile, certs.server.certFile)).toContain(': OK');
    expect(verify(certs.ca.certFile, certs.client.certFile)).toContain(': OK');
    expect(verify(certs.otherCa.certFile, certs.otherClient.certFile)).toContain(': OK');
    expect(verify(certs.ca.certFile, certs.otherClient.certFile)).toContain(
      'unable to get local issuer certificate',
    );
    const server = new X509Certificate(certs.server.cert);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(server.checkPrivateKey(createPrivateKey(certs.server.key))).toBe(true);
    expect(new X509Certificate(certs.wrongNameServer.cert).subjectAltName).toBe('DNS:wrong.example');
  });

  it('makes an expired certificate (valid in 2020 only) and renewals with new serials', () => {
    const expired = new X509Certificate(certs.expiredServer.cert);
    expect(new Date(expired.validTo).getTime()).toBeLessThan(Date.now());
    expect(verify(certs.ca.certFile, certs.expiredServer.certFile)).toContain('certificate has expired');
    const renewed = certs.issue('renewed', ['localhost']);
    expect(new X509Certificate(renewed.cert).serialNumber).not.toBe(
      new X509Certificate(certs.server.cert).serialNumber,
    );
  });
});
