import { join } from 'node:path';
import { ConfigError } from '@stickygw/servicekit';
import { thrownBy, writeTempFiles } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import type { NetworkInterfaces } from './detect-ipv4.js';
import { loadConfig } from './load-config.js';

const VALID_ENV: NodeJS.ProcessEnv = {
  MY_DISCOVERER_URL: 'http://127.0.0.1:8080',
  INSTANCE_ID: 'worker-a',
  DISCOVERABLE_HOST: '127.0.0.1',
  JWT_SECRET: 'secret',
};

const ETH0: NetworkInterfaces = {
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: null,
    },
  ],
  eth0: [
    {
      address: 'fe80::1',
      netmask: 'ffff::',
      family: 'IPv6',
      mac: '02:42:ac:11:00:02',
      internal: false,
      cidr: null,
      scopeid: 2,
    },
    {
      address: '172.17.0.2',
      netmask: '255.255.0.0',
      family: 'IPv4',
      mac: '02:42:ac:11:00:02',
      internal: false,
      cidr: null,
    },
  ],
};

function load(overrides: NodeJS.ProcessEnv, interfaces: NetworkInterfaces = ETH0) {
  return loadConfig({ ...VALID_ENV, ...overrides }, () => interfaces);
}

function failure(overrides: NodeJS.ProcessEnv, interfaces: NetworkInterfaces = ETH0): ConfigError {
  return thrownBy(ConfigError, () => load(overrides, interfaces));
}

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(load({})).toEqual({
      port: 5000,
      listenHost: '127.0.0.1',
      discovererUrl: 'http://127.0.0.1:8080',
      instanceId: 'worker-a',
      advertisedIpv4: '127.0.0.1',
      registrationTtlMs: 300_000,
      heartbeatIntervalMs: 120_000,
      jwtSecret: 'secret',
      subscribeIntervalMs: 5000,
      logLevel: 'info',
    });
  });

  it('reads DISCOVERER_TOKEN inline or from DISCOVERER_TOKEN_FILE, and refuses both', () => {
    const {
      dir,
      paths: { token: file },
    } = writeTempFiles('service-config-', { token: 'from-file\n' });
    expect(load({}).discovererToken).toBeUndefined();
    expect(load({ DISCOVERER_TOKEN: 'inline' }).discovererToken).toBe('inline');
    expect(load({ DISCOVERER_TOKEN_FILE: file }).discovererToken).toBe('from-file');
    expect(failure({ DISCOVERER_TOKEN: 'inline', DISCOVERER_TOKEN_FILE: file }).problems).toEqual([
      'DISCOVERER_TOKEN and DISCOVERER_TOKEN_FILE are both set: set only one of them',
    ]);
    expect(failure({ DISCOVERER_TOKEN_FILE: join(dir, 'missing'), JWT_SECRET: '' }).problems).toEqual([
      'JWT_SECRET is required but not set',
      `DISCOVERER_TOKEN_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
    ]);
  });

  it('reads JWT_SECRET(_FILE) and JWT_SECRET_PREVIOUS(_FILE), and refuses both forms, naming the variable only', () => {
    const {
      dir,
      paths: { jwt: file, empty },
    } = writeTempFiles('service-jwt-', { jwt: 'file-secret-value\n', empty: '' });
    expect(load({ JWT_SECRET: undefined, JWT_SECRET_FILE: file }).jwtSecret).toBe('file-secret-value');
    expect(load({ JWT_SECRET_PREVIOUS_FILE: file }).jwtPreviousSecret).toBe('file-secret-value');
    expect(load({ JWT_SECRET_PREVIOUS: ' old ' }).jwtPreviousSecret).toBe('old');
    const refused = failure({
      JWT_SECRET: 'inline-secret-value',
      JWT_SECRET_FILE: file,
      JWT_SECRET_PREVIOUS_FILE: empty,
    });
    expect(refused.problems).toEqual([
      'JWT_SECRET and JWT_SECRET_FILE are both set: set only one of them',
      `JWT_SECRET_PREVIOUS_FILE: ${empty} is empty`,
    ]);
    expect(refused.message).not.toContain('secret-value');
    expect(failure({ JWT_SECRET: undefined, JWT_SECRET_FILE: join(dir, 'missing') }).problems).toEqual([
      `JWT_SECRET_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
    ]);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(load({}))).toBe(true);
  });

  it('reads every variable', () => {
    const config = load({
      SERVICE_PORT_GRPC: '5005',
      LISTEN_HOST: '0.0.0.0',
      MY_DISCOVERER_URL: 'http://discoverer:8080///',
      REGISTRATION_TTL_MS: '600000',
      REGISTRATION_HEARTBEAT_INTERVAL_MS: '1',
      JWT_SECRET: '  padded secret  ',
      SUBSCRIBE_INTERVAL_MS: '50',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 5005,
      listenHost: '0.0.0.0',
      discovererUrl: 'http://discoverer:8080',
      registrationTtlMs: 600_000,
      heartbeatIntervalMs: 1,
      jwtSecret: 'padded secret',
      subscribeIntervalMs: 50,
      logLevel: 'debug',
    });
  });

  it('treats empty values as unset', () => {
    const config = load({
      SERVICE_PORT_GRPC: '',
      REGISTRATION_TTL_MS: '',
      REGISTRATION_HEARTBEAT_INTERVAL_MS: ' ',
      SUBSCRIBE_INTERVAL_MS: '',
      LISTEN_HOST: '',
    });
    expect(config).toMatchObject({
      port: 5000,
      registrationTtlMs: 300_000,
      heartbeatIntervalMs: 120_000,
      subscribeIntervalMs: 5000,
      listenHost: '127.0.0.1',
    });
  });

  it('accepts port 0 (pick a free port) and 65535', () => {
    expect(load({ SERVICE_PORT_GRPC: '0' }).port).toBe(0);
    expect(load({ SERVICE_PORT_GRPC: '65535' }).port).toBe(65_535);
  });

  it('falls back from INSTANCE_ID to HOSTNAME', () => {
    expect(load({ INSTANCE_ID: undefined, HOSTNAME: 'c0ffee' }).instanceId).toBe('c0ffee');
    expect(load({ INSTANCE_ID: ' ', HOSTNAME: 'c0ffee' }).instanceId).toBe('c0ffee');
    expect(load({ INSTANCE_ID: 'worker-b', HOSTNAME: 'c0ffee' }).instanceId).toBe('worker-b');
  });

  it('auto-detects the first non-internal IPv4 when DISCOVERABLE_HOST is unset', () => {
    expect(load({ DISCOVERABLE_HOST: undefined }).advertisedIpv4).toBe('172.17.0.2');
    expect(load({ DISCOVERABLE_HOST: '' }).advertisedIpv4).toBe('172.17.0.2');
  });

  it('does not look at the interfaces when DISCOVERABLE_HOST is set', () => {
    const config = loadConfig({ ...VALID_ENV, DISCOVERABLE_HOST: '10.0.0.7' }, () => {
      throw new Error('interfaces must not be read');
    });
    expect(config.advertisedIpv4).toBe('10.0.0.7');
  });

  describe('refusals, in the reference order, one per message', () => {
    it.each(['abc', '65536', '-1', '50.5', '5000x'])('SERVICE_PORT_GRPC=%s', (value) => {
      expect(failure({ SERVICE_PORT_GRPC: value }).message).toBe(
        `SERVICE_PORT_GRPC must be a valid port number (1-65535), got: ${value}`,
      );
    });

    it.each([undefined, '', '/', '  '])('MY_DISCOVERER_URL=%j', (value) => {
      expect(failure({ MY_DISCOVERER_URL: value }).message).toBe('MY_DISCOVERER_URL is required but not set');
    });

    it('INSTANCE_ID and HOSTNAME both blank', () => {
      const error = failure({ INSTANCE_ID: '', HOSTNAME: ' ' });
      expect(error.message).toBe('HOSTNAME is required but not set');
      expect(error.hints).toEqual([
        'Set INSTANCE_ID (preferred) or HOSTNAME to the id this instance registers under.',
      ]);
    });

    it('no IPv4 to advertise', () => {
      const onlyLoopback: NetworkInterfaces = { lo: ETH0.lo };
      expect(failure({ DISCOVERABLE_HOST: undefined }, onlyLoopback).message).toBe(
        'Could not auto-detect primary IPv4 address',
      );
    });

    it('DISCOVERABLE_HOST is not an IPv4 address', () => {
      expect(failure({ DISCOVERABLE_HOST: 'worker.local' }).message).toBe(
        'DISCOVERABLE_HOST must be an IPv4 address, got: worker.local',
      );
    });

    it.each(['0', '600001', 'ten'])('REGISTRATION_TTL_MS=%s', (value) => {
      expect(failure({ REGISTRATION_TTL_MS: value }).message).toBe(
        `REGISTRATION_TTL_MS must be between 1 and 600000, got: ${value}`,
      );
    });

    it.each(['0', '-5', 'soon'])('REGISTRATION_HEARTBEAT_INTERVAL_MS=%s', (value) => {
      expect(failure({ REGISTRATION_HEARTBEAT_INTERVAL_MS: value }).message).toBe(
        `REGISTRATION_HEARTBEAT_INTERVAL_MS must be greater than 0, got: ${value}`,
      );
    });

    it.each([undefined, '', '   '])('JWT_SECRET=%j', (value) => {
      expect(failure({ JWT_SECRET: value }).message).toBe('JWT_SECRET is required but not set');
    });

    it.each(['0', '1.5'])('SUBSCRIBE_INTERVAL_MS=%s', (value) => {
      expect(failure({ SUBSCRIBE_INTERVAL_MS: value }).message).toBe(
        `SUBSCRIBE_INTERVAL_MS must be greater than 0, got: ${value}`,
      );
    });

    it('LOG_LEVEL unknown', () => {
      expect(failure({ LOG_LEVEL: 'verbose' }).message).toBe(
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got: verbose',
      );
    });

    it('reports every problem at once, in the reference order', () => {
      expect(
        failure({
          SERVICE_PORT_GRPC: 'x',
          MY_DISCOVERER_URL: '',
          INSTANCE_ID: '',
          REGISTRATION_TTL_MS: '0',
          JWT_SECRET: '',
        }).problems,
      ).toEqual([
        'SERVICE_PORT_GRPC must be a valid port number (1-65535), got: x',
        'MY_DISCOVERER_URL is required but not set',
        'HOSTNAME is required but not set',
        'REGISTRATION_TTL_MS must be between 1 and 600000, got: 0',
        'JWT_SECRET is required but not set',
      ]);
      expect(
        failure({ REGISTRATION_TTL_MS: '0', REGISTRATION_HEARTBEAT_INTERVAL_MS: '0', JWT_SECRET: '' })
          .problems,
      ).toEqual([
        'REGISTRATION_TTL_MS must be between 1 and 600000, got: 0',
        'REGISTRATION_HEARTBEAT_INTERVAL_MS must be greater than 0, got: 0',
        'JWT_SECRET is required but not set',
      ]);
      const error = failure({ INSTANCE_ID: '', HOSTNAME: '', DISCOVERABLE_HOST: 'nope' });
      expect(error.problems).toEqual([
        'HOSTNAME is required but not set',
        'DISCOVERABLE_HOST must be an IPv4 address, got: nope',
      ]);
      expect(error.message).toBe(error.problems.join('\n'));
    });
  });
});
