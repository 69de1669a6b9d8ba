import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate and its key, as files and as text. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Certificates made on the fly by the openssl CLI (P-256 keys, so a set takes well under a second):
 * - `ca` issues `server` (names `localhost`, `127.0.0.1`), `client`, `expiredServer` (valid in
 *   2020 only) and `wrongNameServer` (only `wrong.example`);
 * - `otherCa` issues `otherClient`, which a server trusting `ca` must refuse.
 * `renewServer()` issues a new `server` certificate (new serial, same names) for reload tests.
 */
export interface TestCertificates {
  readonly dir: string;
  readonly ca: CertificateFiles;
  readonly server: CertificateFiles;
  readonly client: CertificateFiles;
  readonly expiredServer: CertificateFiles;
  readonly wrongNameServer: CertificateFiles;
  readonly otherCa: CertificateFiles;
  readonly otherClient: CertificateFiles;
  /** A fresh leaf for `names` issued by `ca`, written under `dir` as `<name>.pem`/`<name>-key.pem`. */
  issue(name: string, names: readonly string[], usage?: 'server' | 'client'): CertificateFiles;
  /** Deletes `dir`. */
  remove(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function files(dir: string, name: string): CertificateFiles {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}

function newKey(dir: string, name: string): void {
  openssl(
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}-key.pem`],
    dir,
  );
}

function selfSignedCa(dir: string, name: string, subject: string): CertificateFiles {
  newKey(dir, name);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}-key.pem`,
      '-subj',
      `/CN=${subject}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
  return files(dir, name);
}

function subjectAltNames(names: readonly string[]): string {
  return names.map((name) => (/^[0-9.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
}

/**
 * A leaf signed by `ca` through `openssl ca`, which (unlike `x509 -req`) takes explicit validity
 * dates, so an expired certificate needs no clock tricks.
 */
function leaf(
  dir: string,
  ca: string,
  name: string,
  names: readonly string[],
  usage: 'server' | 'client',
  validity: { start: string; end: string } | undefined,
): CertificateFiles {
  newKey(dir, name);
  openssl(
    ['req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${names[0] ?? name}`, '-out', `${name}.csr`],
    dir,
  );
  const extensions = join(dir, `${name}.ext`);
  writeFileSync(
    extensions,
    [
      '[leaf]',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(names.length > 0 ? [`subjectAltName=${subjectAltNames(names)}`] : []),
      '',
    ].join('\n'),
  );
  openssl(
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      `${ca}.cnf`,
      '-extfile',
      extensions,
      '-extensions',
      'leaf',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      ...(validity === undefined ? ['-days', '2'] : ['-startdate', validity.start, '-enddate', validity.end]),
    ],
    dir,
  );
  return files(dir, name);
}

/** The minimal `openssl ca` setup of one CA (database, serial) in `dir`. */
function caConfig(dir: string, ca: string): void {
  writeFileSync(join(dir, `${ca}.index`), '');
  writeFileSync(join(dir, `${ca}.serial`), '1000\n');
  writeFileSync(
    join(dir, `${ca}.cnf`),
    [
      '[ca]',
      'default_ca = this',
      '[this]',
      `dir = ${dir}`,
      `database = ${join(dir, `${ca}.index`)}`,
      `serial = ${join(dir, `${ca}.serial`)}`,
      `new_certs_dir = ${dir}`,
      `certificate = ${join(dir, `${ca}.pem`)}`,
      `private_key = ${join(dir, `${ca}-key.pem`)}`,
      'default_md = sha256',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
}

/** Generates a fresh {@link TestCertificates} set in a new temporary directory. */
export function generateTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'stickygw-certs-'));
  const ca = selfSignedCa(dir, 'ca', 'stickygw test CA');
  caConfig(dir, 'ca');
  const otherCa = selfSignedCa(dir, 'other-ca', 'another test CA');
  caConfig(dir, 'other-ca');
  const serverNames = ['localhost', '127.0.0.1'];
  return {
    dir,
    ca,
    server: leaf(dir, 'ca', 'server', serverNames, 'server', undefined),
    client: leaf(dir, 'ca', 'client', ['test-client'], 'client', undefined),
    expiredServer: leaf(dir, 'ca', 'expired-server', serverNames, 'server', {
      start: '20200101000000Z',
      end: '20200102000000Z',
    }),
    wrongNameServer: leaf(dir, 'ca', 'wrong-name-server', ['wrong.example'], 'server', undefined),
    otherCa,
    otherClient: leaf(dir, 'other-ca', 'other-client', ['test-client'], 'client', undefined),
    issue: (name, names, usage = 'server') => leaf(dir, 'ca', name, names, usage, undefined),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
