/**
 * Micro benchmark of the HPACK codec on a typical gRPC request header list:
 *   cd /work/main && npx tsx gateway/src/h2/hpack/hpack-bench.ts [iterations]
 *
 * "warm, same headers" is the steady state of a connection: every field but the never-indexed
 * authorization is a static or dynamic index. "new session-id each call" adds one literal with
 * incremental indexing (and an eviction) per block. "cold" is a fresh encoder and decoder per
 * block, the cost of the first request on a connection. Figures are per block.
 */
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';

const JWT_HEADER = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9';
const JWT_PAYLOAD =
  'eyJzdWIiOiJ1c2VyLTQyIiwic2Vzc2lvbiI6ImFiYyIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ';
const JWT_SIGNATURE =
  'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkKdBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const JWT = `${JWT_HEADER}.${JWT_PAYLOAD}.${JWT_SIGNATURE}`.slice(0, 200);

const FIELDS: readonly string[] = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/my_service.MyServiceAPI/MyServiceEcho',
  ':authority',
  '127.0.0.1:10000',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
  'grpc-timeout',
  '5000m',
  'user-agent',
  'grpc-node-js/1.14.7',
  'session-id',
  '3f2b8c1e-9d4a-4e7b-a1c6-5d0f8e2b7a94',
  'authorization',
  JWT,
];

const iterations = Number(process.argv[2] ?? 1_000_000);

function check(decoded: readonly string[], expected: readonly string[]): void {
  if (decoded.length !== expected.length || decoded.some((field, i) => field !== expected[i])) {
    throw new Error(`round trip mismatch: ${JSON.stringify(decoded)}`);
  }
}

function nsPer(start: bigint, count: number): string {
  return (Number(process.hrtime.bigint() - start) / count).toFixed(0);
}

/** Same header list on every call: all fields indexed but the never-indexed authorization. */
function warm(count: number): string {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const out = Buffer.allocUnsafe(encoder.maxEncodedLength(FIELDS));
  const decoded: string[] = [];
  // The first block fills the tables; from the second on the block no longer changes either
  // table, so it can be encoded N times and then decoded N times while both stay in sync.
  for (let i = 0; i < 2; i++) {
    const length = encoder.encodeInto(FIELDS, out, 0);
    decoded.length = 0;
    decoder.decode(out, 0, length, decoded);
    check(decoded, FIELDS);
  }
  const tableSize = decoder.tableSize;

  let length = 0;
  let start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) length = encoder.encodeInto(FIELDS, out, 0);
  const encodeNs = nsPer(start, count);

  let listSize = 0;
  start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    decoded.length = 0;
    listSize = decoder.decode(out, 0, length, decoded);
  }
  const decodeNs = nsPer(start, count);
  check(decoded, FIELDS);
  if (decoder.tableSize !== tableSize) throw new Error('the warm block changed the table');
  return `warm, same headers: ${length}-octet block (list size ${listSize}): encode ${encodeNs} ns, decode ${decodeNs} ns`;
}

/** A new session-id on every call: one literal added to the table (and one evicted) per block. */
function churn(count: number): string {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const batch = 1000;
  const lists: string[][] = [];
  for (let i = 0; i < batch; i++) {
    const fields = [...FIELDS];
    fields[17] = `${(i * 2654435761).toString(16).padStart(8, '0')}-9d4a-4e7b-a1c6-5d0f8e2b7a94`.slice(-36);
    lists.push(fields);
  }
  const out = Buffer.allocUnsafe(batch * encoder.maxEncodedLength(FIELDS));
  const ends = new Array<number>(batch + 1).fill(0);
  const decoded: string[] = [];
  let encodeNs = 0n;
  let decodeNs = 0n;
  for (let done = 0; done < count; done += batch) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++)
      ends[i + 1] = encoder.encodeInto(lists[i] as string[], out, ends[i] as number);
    encodeNs += process.hrtime.bigint() - start;
    start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      decoded.length = 0;
      decoder.decode(out, ends[i] as number, ends[i + 1] as number, decoded);
    }
    decodeNs += process.hrtime.bigint() - start;
    check(decoded, lists[batch - 1] as string[]);
  }
  const blocks = Math.ceil(count / batch) * batch;
  const perBlock = (ns: bigint) => (Number(ns) / blocks).toFixed(0);
  return `warm, new session-id each call: encode ${perBlock(encodeNs)} ns, decode ${perBlock(decodeNs)} ns`;
}

/** A fresh encoder and decoder per block: the first request of a connection. */
function cold(count: number): string {
  const decoded: string[] = [];
  const blocks: Buffer[] = [];
  let start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) blocks.push(new HpackEncoder().encode(FIELDS));
  const encodeNs = nsPer(start, count);
  start = process.hrtime.bigint();
  for (const block of blocks) {
    decoded.length = 0;
    new HpackDecoder().decode(block, 0, block.length, decoded);
  }
  const decodeNs = nsPer(start, count);
  check(decoded, FIELDS);
  return `cold, new encoder/decoder: ${blocks[0]?.length}-octet block: encode ${encodeNs} ns, decode ${decodeNs} ns`;
}

// A first, shorter round lets the JIT settle; only the second one is reported.
const small = Math.max(1000, Math.floor(iterations / 10));
warm(small);
churn(small);
cold(small);
console.log(
  `HPACK, gRPC request headers (${FIELDS.length / 2} fields, 200-octet authorization), ${iterations} iterations:`,
);
console.log(`  ${warm(iterations)}`);
console.log(`  ${churn(Math.max(1000, Math.floor(iterations / 10)))}`);
console.log(`  ${cold(Math.max(1000, Math.floor(iterations / 10)))}`);
