import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, ManagedProcess } from '@stickygw/testkit';
import { templatePath } from '../paths.js';
import { renderTemplate } from '../render-template.js';
import { awaitEcho } from './ready-probe.js';
import { PLAIN_PATH, type Target } from './target.js';

/**
 * nginx with grpc_pass from bench/templates/nginx.conf.tmpl, rendered into a temp dir (config, pid,
 * error log, temp paths), in the foreground so it is stopped by PID. Its one worker is a child of
 * the master: CPU and RSS are read over the process tree.
 */
export async function startNginxTarget(backendPort: number, probeBody: Buffer): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nginx-'));
  const port = await getFreePort();
  const config = renderTemplate(await readFile(templatePath('nginx.conf.tmpl'), 'utf8'), {
    dir,
    port,
    backendPort,
  });
  const configPath = join(dir, 'nginx.conf');
  await writeFile(configPath, config);
  const started = ManagedProcess.start({
    name: 'nginx',
    command: 'nginx',
    args: ['-p', dir, '-c', configPath, '-e', join(dir, 'error.log')],
  });
  try {
    await awaitEcho(started, port, PLAIN_PATH, probeBody);
  } catch (error) {
    await started.stop();
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n--- nginx error.log ---\n${log}`);
  }
  return {
    id: 'nginx',
    label: 'nginx grpc_pass',
    port,
    path: PLAIN_PATH,
    headers: {},
    proxyPid: started.pid,
    process: started,
    stop: async () => {
      await started.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
