import { type Client, status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import {
  echo,
  login,
  myServiceClient,
  type Outcome,
  probeChat,
  probeCollect,
  probeUnary,
  rawClient,
  type Session,
  subscribe,
} from '../gateway-clients.js';
import type { ProbeReply } from '../probe-service.js';
import type { BookingTracker } from './booking-tracker.js';
import { type Random, sleep } from './random.js';
import type { CallKind, SoakLedger, Ticket } from './soak-ledger.js';

export interface LoadContext {
  /** Every call enters through one of these, picked at random. */
  readonly gatewayAddresses: readonly string[];
  readonly ledger: SoakLedger;
  readonly tracker: BookingTracker;
  readonly deadlineMs: number;
  readonly random: Random;
  /** True once the load phase is over: finish the current call, then stop. */
  stopping(): boolean;
}

/** How much past its deadline a call may run before the soak gives up waiting and counts it as hung. */
const WATCHDOG_SLACK_MS = 3_000;

const OPERATIONS: ReadonlyArray<readonly [CallKind, number]> = [
  ['echo', 35],
  ['subscribe', 10],
  ['probe-unary', 15],
  ['collect', 15],
  ['chat', 20],
  // Login is CPU-heavy (scrypt) in the auth service; a few keep tokens fresh without starving it.
  ['login', 3],
];

type Ended = { code: number; details: string };

/**
 * One client session (its own connection): logs in, then loops over a weighted mix of calls until the
 * load phase ends. Every call has a deadline, is entered in the ledger, and its answers are checked:
 * the right session, the instance that answered (for the booking tracker), and for the streaming
 * probe calls the exact sequence of messages (a transfer must neither lose nor repeat any).
 */
export class VirtualSession {
  readonly #clients: readonly MyServiceAPIClient[];
  readonly #raws: readonly Client[];
  #token = '';

  constructor(
    private readonly ctx: LoadContext,
    readonly sessionId: string,
  ) {
    this.#clients = ctx.gatewayAddresses.map((address) => myServiceClient(address));
    this.#raws = ctx.gatewayAddresses.map((address) => rawClient(address));
  }

  /** A connection to a random gateway; with one gateway no random number is drawn, so seeds replay as before. */
  #anyGateway<T>(connections: readonly T[]): T {
    return connections.length === 1 ? (connections[0] as T) : this.ctx.random.pick(connections);
  }

  get #client(): MyServiceAPIClient {
    return this.#anyGateway(this.#clients);
  }

  get #raw(): Client {
    return this.#anyGateway(this.#raws);
  }

  get #session(): Session {
    return { sessionId: this.sessionId, token: this.#token };
  }

  async run(): Promise<void> {
    const { random } = this.ctx;
    try {
      while (!this.ctx.stopping() && this.#token === '') {
        await this.#login();
        if (this.#token === '') await sleep(random.int(100, 300));
      }
      while (!this.ctx.stopping()) {
        const ended = await this.#operation(random.weighted(OPERATIONS));
        const pause =
          ended === status.RESOURCE_EXHAUSTED || ended === status.UNAVAILABLE
            ? random.int(100, 300)
            : random.int(5, 40);
        await sleep(pause);
      }
    } finally {
      for (const client of [...this.#clients, ...this.#raws]) client.close();
    }
  }

  #operation(kind: CallKind): Promise<number | undefined> {
    switch (kind) {
      case 'login':
        return this.#login();
      case 'echo':
        return this.#echo();
      case 'subscribe':
        return this.#subscribe();
      case 'probe-unary':
        return this.#probeUnary();
      case 'collect':
        return this.#collect();
      case 'chat':
        return this.#chat();
    }
  }

  /**
   * Enters the call in the ledger and waits for `ended`, at most `deadline + slack`. A call that has
   * not ended by then stays pending in the ledger for good (a hang); `abandon` then cancels it so
   * this session can go on. Resolves with the status code, or undefined for a hang.
   */
  async #track(
    kind: CallKind,
    deadlineMs: number,
    ended: Promise<Ended>,
    abandon: () => void,
  ): Promise<number | undefined> {
    const ticket: Ticket = this.ctx.ledger.begin(kind, deadlineMs);
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), deadlineMs + WATCHDOG_SLACK_MS);
    });
    const result = await Promise.race([ended, watchdog]);
    clearTimeout(timer);
    if (result === undefined) {
      abandon();
      return undefined;
    }
    this.ctx.ledger.end(ticket, result.code, result.details);
    this.ctx.tracker.observeStatus(result.details);
    return result.code;
  }

  #fromOutcome<T>(outcome: Promise<Outcome<T>>, check: (value: T) => void): Promise<Ended> {
    return outcome.then((o) => {
      if (o.code === status.OK && o.value !== undefined) check(o.value);
      return { code: o.code, details: o.details };
    });
  }

  #login(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs;
    return this.#track(
      'login',
      deadlineMs,
      this.#fromOutcome(login(this.#client, { session_id: this.sessionId }, deadlineMs), (value) => {
        this.#token = value.token;
      }),
      () => {},
    );
  }

  #echo(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs;
    // One in ten is large (16-300 KB): answers over one DATA frame are where relaying can lose bytes.
    const tag = `echo-${this.ctx.random.int(0, 1_000_000)}`;
    const value = this.ctx.random.next() < 0.1 ? tag.padEnd(this.ctx.random.int(16_000, 300_000), '.') : tag;
    return this.#track(
      'echo',
      deadlineMs,
      this.#fromOutcome(echo(this.#client, this.#session, deadlineMs, value), (response) => {
        if (response.client_value !== value || response.client_session_id !== this.sessionId) {
          this.ctx.ledger.corrupted(
            `echo of ${value.length} bytes for ${this.sessionId} answered ${response.client_value.length} bytes for ${response.client_session_id}`,
          );
        }
        this.ctx.tracker.observe(response.pod_name, response.server_session_id, this.sessionId);
      }),
      () => {},
    );
  }

  #subscribe(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs * 2;
    const wanted = this.ctx.random.int(2, 6);
    const stream = subscribe(this.#client, this.#session, deadlineMs);
    const ended = (async (): Promise<Ended> => {
      try {
        await stream.until(
          (s) => s.messages.length >= wanted || s.ended !== undefined,
          deadlineMs + WATCHDOG_SLACK_MS,
          'messages',
        );
      } catch {
        // The watchdog of #track reports the hang.
        return new Promise<Ended>(() => {});
      }
      for (const message of stream.messages) {
        this.ctx.tracker.observe(message.pod_name, message.server_session_id, this.sessionId);
      }
      if (stream.messages.length >= wanted) {
        stream.call.cancel();
        return { code: status.OK, details: '' };
      }
      const end = stream.ended as Ended;
      // The stream never ends by itself; a clean end before the messages wanted is a broken contract.
      if (end.code === status.OK)
        this.ctx.ledger.corrupted(
          `subscribe of ${this.sessionId} ended OK after ${stream.messages.length} messages`,
        );
      return end;
    })();
    return this.#track('subscribe', deadlineMs, ended, () => stream.call.cancel());
  }

  #probeUnary(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs;
    const seq = this.ctx.random.int(0, 1_000_000);
    return this.#track(
      'probe-unary',
      deadlineMs,
      this.#fromOutcome(
        probeUnary(this.#raw, this.#session, { seq, delayMs: this.ctx.random.int(0, 30) }, deadlineMs),
        (reply) => {
          if (reply.seq !== seq) this.ctx.ledger.corrupted(`probe unary seq ${seq} answered ${reply.seq}`);
          this.ctx.tracker.observe(reply.pod, reply.session, this.sessionId);
        },
      ),
      () => {},
    );
  }

  #collect(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs * 2;
    const count = this.ctx.random.int(1, 20);
    const call = probeCollect(this.#raw, this.#session, deadlineMs);
    const ended = (async (): Promise<Ended> => {
      for (let seq = 0; seq < count; seq++) {
        call.send(seq);
        // Spread the messages out so that instances die in the middle of some streams.
        await sleep(this.ctx.random.int(0, 15));
      }
      const outcome = await call.finish();
      if (outcome.code === status.OK && outcome.value !== undefined) {
        const reply: ProbeReply = outcome.value;
        const expected = Array.from({ length: count }, (_, i) => i);
        if (JSON.stringify(reply.seqs) !== JSON.stringify(expected)) {
          this.ctx.ledger.corrupted(`collect of ${count} messages received ${JSON.stringify(reply.seqs)}`);
        }
        this.ctx.tracker.observe(reply.pod, reply.session, this.sessionId);
      }
      return { code: outcome.code, details: outcome.details };
    })();
    return this.#track('collect', deadlineMs, ended, () => call.call.cancel());
  }

  /** Either ping-pong (each reply awaited before the next message) or a burst of messages, then half-close. */
  #chat(): Promise<number | undefined> {
    const deadlineMs = this.ctx.deadlineMs * 2;
    const count = this.ctx.random.int(1, 15);
    const pingPong = this.ctx.random.next() < 0.5;
    const chat = probeChat(this.#raw, this.#session, deadlineMs);
    const { recorder } = chat;
    const ended = (async (): Promise<Ended> => {
      try {
        for (let seq = 0; seq < count && recorder.ended === undefined; seq++) {
          chat.send(seq);
          if (pingPong) {
            await recorder.until(
              (r) => r.messages.length > seq || r.ended !== undefined,
              deadlineMs + WATCHDOG_SLACK_MS,
              `reply ${seq}`,
            );
          } else {
            await sleep(this.ctx.random.int(0, 10));
          }
        }
        chat.call.end();
        const end = await recorder.untilEnded(deadlineMs + WATCHDOG_SLACK_MS);
        for (const reply of recorder.messages)
          this.ctx.tracker.observe(reply.pod, reply.session, this.sessionId);
        if (end.code === status.OK) {
          const seqs = recorder.messages.map((reply) => reply.seq);
          const expected = Array.from({ length: count }, (_, i) => i);
          if (JSON.stringify(seqs) !== JSON.stringify(expected)) {
            this.ctx.ledger.corrupted(
              `chat of ${count} messages (${pingPong ? 'ping-pong' : 'burst'}) answered ${JSON.stringify(seqs)}`,
            );
          }
        }
        return end;
      } catch {
        return new Promise<Ended>(() => {});
      }
    })();
    return this.#track('chat', deadlineMs, ended, () => chat.call.cancel());
  }
}
