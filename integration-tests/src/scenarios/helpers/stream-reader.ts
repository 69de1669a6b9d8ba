import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';

export type StreamEvent<T> =
  | { readonly kind: 'message'; readonly message: T; readonly receivedAt: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly error: ServiceError }
  | { readonly kind: 'timeout' };

/**
 * Pull-style reading of a server stream (the reference's `Recv()`): messages queue up as they
 * arrive, `next()` takes the oldest one or waits for it with a deadline.
 */
export class StreamReader<T> {
  readonly #queue: StreamEvent<T>[] = [];
  #waiter: ((event: StreamEvent<T>) => void) | undefined;
  #finished = false;
  #cancelled = false;

  constructor(private readonly call: ClientReadableStream<T>) {
    call.on('data', (message: T) => this.#push({ kind: 'message', message, receivedAt: Date.now() }));
    call.on('end', () => this.#finish({ kind: 'end' }));
    call.on('error', (error: ServiceError) => this.#finish({ kind: 'error', error }));
  }

  /** True once the client cancelled the stream itself. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  #finish(event: StreamEvent<T>): void {
    // grpc-js may report both an error and the end; the first one is what happened.
    if (this.#finished) return;
    this.#finished = true;
    this.#push(event);
  }

  #push(event: StreamEvent<T>): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter(event);
    } else {
      this.#queue.push(event);
    }
  }

  next(timeoutMs: number): Promise<StreamEvent<T>> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#waiter) return Promise.reject(new Error('StreamReader.next() is already waiting'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.#waiter = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
    });
  }

  cancel(): void {
    this.#cancelled = true;
    this.call.cancel();
  }
}
