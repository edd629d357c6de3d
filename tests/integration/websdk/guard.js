// Network guard: every connection except loopback is refused, before the SDK is loaded.
// The SDK dials Tencent hosts when misconfigured and may POST usage stats while its socket is down;
// a test must never reach them.  Refusals are printed as {"guard": ...} lines so a test can see them.
'use strict';
const net = require('net');
const dns = require('dns');

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
function isLoopback(host) {
  return host === undefined || host === null || LOOPBACK.has(String(host).replace(/^\[|\]$/g, ''));
}
function refuse(what) {
  process.stdout.write(JSON.stringify({ guard: String(what) }) + '\n');
  const err = new Error('network guard: non-loopback address refused: ' + what);
  err.code = 'ENETUNREACH';
  return err;
}
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  if (options.path === undefined && !isLoopback(options.host)) {
    const err = refuse(options.host + ':' + options.port);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function guardedLookup(host, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (!isLoopback(host)) {
    process.nextTick(() => cb(refuse('dns ' + host)));
    return {};
  }
  return lookup.call(dns, host, options, callback);
};
if (typeof globalThis.fetch === 'function') {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    if (!isLoopback(url.hostname)) return Promise.reject(refuse(url.href));
    return realFetch(input, init);
  };
}
module.exports = { isLoopback, refuse };
