import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

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
  /** Streams the child reported so far. */
  streams = 0;
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(windowBytes = 65_535): Promise<EchoChild> {
    const child = spawn(process.execPath, ['-e', SCRIPT, String(windowBytes)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    let echo: EchoChild | undefined;
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo child did not listen within 10 s')), 10_000);
      child.once('exit', (code) => reject(new Error(`echo child exited with ${code}`)));
      lines.on('line', (line) => {
        if (line.startsWith('port ')) {
          clearTimeout(timer);
          resolve(Number(line.slice(5)));
        } else if (line === 'stream' && echo !== undefined) {
          echo.streams++;
        }
      });
    }).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    echo = new EchoChild(child, port);
    return echo;
  }

  /** Freezes the process (it reads and answers nothing until `resume()` or `stop()`). */
  pause(): void {
    this.stopped = true;
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.child.kill('SIGCONT');
  }

  /** Resumes a frozen child first: a stopped process would not act on SIGTERM. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.resume();
    this.child.kill('SIGKILL');
    await exited;
  }
}
