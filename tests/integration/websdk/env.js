// Browser globals the SDK sniffs at module load (it checks `typeof window`), set before `require`.
'use strict';
const { isLoopback, refuse } = require('./guard');
const WS = require('ws');

globalThis.window = globalThis;
Object.defineProperty(globalThis, 'navigator', {
  value: { userAgent: 'Mozilla/5.0 (simtim node harness)', onLine: true, language: 'en' },
  configurable: true,
});
globalThis.document = {
  charset: 'UTF-8', hidden: false, visibilityState: 'visible', cookie: '', referrer: '',
  addEventListener() {}, removeEventListener() {}, createElement: () => ({ style: {} }),
  getElementsByTagName: () => [],
};
globalThis.location = { href: 'http://127.0.0.1/', protocol: 'http:', host: '127.0.0.1', hostname: '127.0.0.1', search: '' };
const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null), setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k), clear: () => store.clear(), key: () => null, length: 0,
};
globalThis.sessionStorage = globalThis.localStorage;
globalThis.addEventListener = () => {};
globalThis.removeEventListener = () => {};
class GuardedWebSocket extends WS {
  constructor(url, protocols) {
    if (!isLoopback(new URL(url).hostname)) throw refuse(url);
    super(url, protocols);
  }
}
globalThis.WebSocket = GuardedWebSocket;
globalThis.XMLHttpRequest = class {
  open(method, url) { this.url = url; }
  setRequestHeader() {}
  send() { refuse('xhr ' + this.url); setTimeout(() => this.onerror && this.onerror(new Error('blocked')), 0); }
  abort() {}
};
