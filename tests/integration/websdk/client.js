// One official Web SDK instance driven line by line: a JSON command on stdin, a JSON line back.
//   node client.js <tim|chat> <ws://127.0.0.1:PORT> <SDKAppID>
// Commands: {"id": 1, "op": "call", "method": "login", "args": [{...}]}  -> {"id": 1, "ok": true, "data": ...}
//           {"id": 2, "op": "text", "to": "bob", "type": "C2C", "text": "hi"} (create + sendMessage)
//           {"id": 3, "op": "stats"} -> frames sent on the socket so far (for the idle measure)
// Every SDK event is printed as {"event": NAME, "data": ...}.  Message objects the SDK hands out are
// kept by ID, and {"$message": ID} in args stands for one (revokeMessage takes the object).
'use strict';
require('./env');
const readline = require('readline');

const [flavour, url, appid] = process.argv.slice(2);
const SDK = flavour === 'tim' ? require('tim-js-sdk') : require('@tencentcloud/chat');
const sdk = SDK.create({ SDKAppID: Number(appid), proxyServer: url });
sdk.setLogLevel(Number(process.env.SIMTIM_SDK_LOG_LEVEL || 4));
const messages = new Map();
let framesSent = 0;
const realSend = globalThis.WebSocket.prototype.send;
globalThis.WebSocket.prototype.send = function countedSend(...args) {
  framesSent += 1;
  return realSend.apply(this, args);
};

function out(value) {
  process.stdout.write(JSON.stringify(value, safe()) + '\n');
}
function safe() {
  const seen = new WeakSet();
  return (key, value) => {
    if (typeof value === 'function') return undefined;
    if (key.startsWith('_')) return undefined;
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return undefined;
      seen.add(value);
    }
    return value;
  };
}
function keep(value) {
  if (value && typeof value === 'object') {
    if (typeof value.ID === 'string' && 'conversationID' in value) messages.set(value.ID, value);
    for (const v of Array.isArray(value) ? value : Object.values(value)) {
      if (v && typeof v === 'object' && !(v instanceof Map)) keep1(v);
    }
  }
  return value;
}
function keep1(v) {
  if (typeof v.ID === 'string' && 'conversationID' in v) messages.set(v.ID, v);
  else if (Array.isArray(v)) v.forEach((x) => x && typeof x === 'object' && keep1(x));
  else if (v.message && typeof v.message === 'object') keep1(v.message);
  else if (v.messageList) keep1(v.messageList);
}
function resolve(value) {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    if (typeof value.$message === 'string') {
      const m = messages.get(value.$message);
      if (!m) throw new Error('no message ' + value.$message);
      return m;
    }
    const o = {};
    for (const [k, v] of Object.entries(value)) o[k] = resolve(v);
    return o;
  }
  return value;
}
for (const name of Object.values(SDK.EVENT)) {
  sdk.on(name, (event) => {
    keep(event.data);
    out({ event: name, data: event.data });
  });
}
async function run(cmd) {
  if (cmd.op === 'call') return sdk[cmd.method](...resolve(cmd.args || []));
  if (cmd.op === 'text') {
    const message = sdk.createTextMessage({ to: cmd.to, conversationType: cmd.type, payload: { text: cmd.text } });
    return sdk.sendMessage(message);
  }
  if (cmd.op === 'stats') return { data: { framesSent } };
  if (cmd.op === 'exit') {
    setTimeout(() => process.exit(0), 10);
    return { data: {} };
  }
  throw new Error('unknown op ' + cmd.op);
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ id: null, ok: false, code: -1, message: 'bad command line' });
    return;
  }
  try {
    const result = await run(cmd);
    keep(result && result.data);
    out({ id: cmd.id, ok: true, data: result ? result.data : null });
  } catch (error) {
    out({ id: cmd.id, ok: false, code: error && error.code, message: String(error && error.message) });
  }
});
process.stdin.on('end', () => process.exit(0));
// A throw inside the SDK (a reply shape it cannot read) is reported as a line, not a 600 kB source dump.
process.on('uncaughtException', (error) => {
  out({ crash: String(error && error.stack ? error.stack : error) });
  process.exit(70);
});
out({ ready: flavour, version: SDK.VERSION || null });
