import { ManagedProcess } from '@stickygw/testkit';

/**
 * A node:http2 echo backend in a child process, so that a test can freeze it for real (SIGSTOP):
 * a stopped process reads nothing and answers no PING, while the kernel still holds its connections
 * open. It grants `windowBytes` receive windows (stream and connection), so a large request is
 * written towards it until the socket buffers are full. Any path: response headers with the first
 * request chunk (a stream that has not received data yet has sent nothing), every chunk echoed,
 * `grpc-status: 0` at the client's half-close. Prints `stream` for each stream it receives.
 */
const SCRIPT = `
const http2 = require('node:http2');
const windowBytes = Number(process.argv[1]);
const server = http2.createServer({ maxSessionMemory: 256, settings: { initialWindowSize: windowBytes } });
server.on('session', (session) => {
  session.on('error', () => {});
  session.once('connect', () => session.setLocalWindowSize(windowBytes));
});
server.on('stream', (stream) => {
  stream.on('error', () => {});
  process.stdout.write('stream\\n');
  stream.on('data', (chunk) => {
    if (!stream.headersSent) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    }
    if (!stream.write(chunk)) stream.pause();
  });
  stream.on('drain', () => stream.resume());
  stream.on('end', () => stream.end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
`;

export class EchoChild {
  private stopped = false;

  private constructor(
    private readonly child: ManagedProcess,
    readonly port: number,
  ) {}

  static async start(windowBytes = 65_535): Promise<EchoChild> {
    const child = ManagedProcess.start({
      name: 'echo child',
      command: process.execPath,
      args: ['-e', SCRIPT, String(windowBytes)],
    });
    try {
      const port = await child.waitForLine((line) => line.startsWith('port ') && Number(line.slice(5)), {
        description: 'the listening port',
        timeoutMs: 10_000,
      });
      return new EchoChild(child, port);
    } catch (error) {
      await child.kill();
      throw error;
    }
  }

  /** Streams the child reported so far. */
  get streams(): number {
    return this.child
      .stdout()
      .split('\n')
      .filter((line) => line === 'stream').length;
  }

  /** Freezes the process (it reads and answers nothing until `resume()` or `stop()`). */
  pause(): void {
    this.stopped = true;
    this.child.signal('SIGSTOP');
  }

  resume(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.child.signal('SIGCONT');
  }

  /** Resumes a frozen child first: a stopped process would not act on SIGTERM. */
  async stop(): Promise<void> {
    this.resume();
    await this.child.kill();
  }
}
