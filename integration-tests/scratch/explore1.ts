import { FaultStack } from '../src/reliability/fault-stack.js';
import {
  echo,
  myServiceClient,
  openSession,
  probeChat,
  probeCollect,
  probeUnary,
  rawClient,
  subscribe,
} from '../src/reliability/gateway-clients.js';
import { sampleProcess } from '../src/reliability/process-metrics.js';

const t0 = Date.now();
const stack = await FaultStack.start({ workers: 3, probes: 2 });
console.log('started in', Date.now() - t0, 'ms', stack.gatewayAddress, stack.logDir);
try {
  const c = myServiceClient(stack.gatewayAddress);
  const r = rawClient(stack.gatewayAddress);
  const s = await openSession(c, 'sess-1');
  console.log('echo', await echo(c, s));
  console.log('unary', await probeUnary(r, s, { seq: 1, delayMs: 50 }));
  const col = probeCollect(r, s);
  col.send(1);
  col.send(2);
  console.log('collect', await col.finish());
  const chat = probeChat(r, s);
  chat.send(1);
  chat.send(2);
  await chat.recorder.until((x) => x.messages.length === 2, 3000, 'replies');
  chat.call.end();
  console.log('chat', chat.recorder.messages, await chat.recorder.untilEnded(3000));
  const sub = subscribe(c, s);
  await sub.until((x) => x.messages.length >= 3, 3000, 'sub');
  sub.call.cancel();
  console.log('sub', sub.messages.length, await sub.untilEnded(3000));
  const s2 = await openSession(c, 'sess-2');
  console.log('echo2', await echo(c, s2));
  console.log('gw', sampleProcess(stack.gatewayPid));
  c.close();
  r.close();
} finally {
  console.log(stack.describeLogs(5));
  await stack.stop();
}
