import { createSocket, type Socket } from 'node:dgram';

const TYPE_A = 1;
const CLASS_IN = 1;

/**
 * A DNS server for the demo, on 127.0.0.1 over UDP: it answers A queries for the names it was
 * given (TTL 0) and NXDOMAIN for others, nothing more (no recursion, no TCP, one question per
 * query, as resolvers send). `setRecords` changes the answers at once.
 */
export class TinyDnsServer {
  readonly #socket: Socket = createSocket('udp4');
  readonly #records = new Map<string, readonly string[]>();
  /** Queries answered, for the demo's figures. */
  queries = 0;

  setRecords(name: string, addresses: readonly string[]): void {
    this.#records.set(name.toLowerCase(), addresses);
  }

  /** Listens on a free port of 127.0.0.1; resolves with `127.0.0.1:<port>`, a resolver address. */
  listen(): Promise<string> {
    this.#socket.on('message', (query, peer) => {
      const answer = this.#answer(query);
      if (answer !== undefined) this.#socket.send(answer, peer.port, peer.address);
    });
    return new Promise((resolve) => {
      this.#socket.bind(0, '127.0.0.1', () => resolve(`127.0.0.1:${this.#socket.address().port}`));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(query: Buffer): Buffer | undefined {
    if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
    // The question: labels up to a zero byte, then type and class.
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset] as number;
      labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    const questionEnd = offset + 5;
    if (questionEnd > query.length) return undefined;
    const type = query.readUInt16BE(offset + 1);
    this.queries++;
    const records = this.#records.get(labels.join('.').toLowerCase());
    const addresses = records !== undefined && type === TYPE_A ? records : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
    // QR, opcode 0, RD copied, RA; rcode 3 (NXDOMAIN) for an unknown name.
    header.writeUInt16BE(0x8080 | (query.readUInt16BE(2) & 0x0100) | (records === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(0, 6); // TTL 0: every refresh asks again
      record.writeUInt16BE(4, 10);
      for (const [i, octet] of address.split('.').entries()) record.writeUInt8(Number(octet), 12 + i);
      return record;
    });
    return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
  }
}
