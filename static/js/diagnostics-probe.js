// One WebSocket under test: logs every event, keeps received frames until a check takes them.
import { t } from './i18n.js';

const INBOX_LIMIT = 200;

export class Probe {
  constructor(url, log) {
    this.url = url;
    this.log = log;
    this.socket = null;
    this.inbox = [];
    this.waiters = new Set();
    this.openedAt = null;
    this.closed = null;
    this.onclose = null;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  // Resolves {opened, ms}, {close}, {timeout} or {error}.
  open(timeoutMs) {
    const started = performance.now();
    return new Promise((resolve) => {
      let timer = null;
      // The page's Content-Security-Policy may refuse the address without any event on the socket.
      const refused = (event) => {
        if (event.effectiveDirective !== 'connect-src') return;
        clearTimeout(timer);
        const message = t('probe.csp', { directive: event.effectiveDirective });
        this.log('•', message);
        resolve({ error: { name: 'SecurityError', message } });
      };
      document.addEventListener('securitypolicyviolation', refused);
      const done = () => document.removeEventListener('securitypolicyviolation', refused);
      try {
        this.socket = new WebSocket(this.url);
      } catch (error) {
        done();
        this.log('•', t('log.wsRefused', { reason: `${error.name}: ${error.message}` }));
        resolve({ error });
        return;
      }
      timer = setTimeout(() => {
        done();
        resolve({ timeout: true });
      }, timeoutMs);
      this.socket.addEventListener('open', done);
      this.socket.addEventListener('close', done);
      this.socket.onopen = () => {
        this.openedAt = performance.now();
        clearTimeout(timer);
        const ms = (this.openedAt - started).toFixed(1);
        this.log('←', t('log.wsOpen', { state: this.socket.readyState, ms }));
        resolve({ opened: true, ms: this.openedAt - started });
      };
      this.socket.onerror = () => {
        this.log('←', t('log.wsError'));
      };
      this.socket.onmessage = (event) => this.receive(event.data);
      this.socket.onclose = (event) => {
        const at = performance.now();
        this.closed = {
          code: event.code, reason: event.reason, wasClean: event.wasClean, afterOpen: this.openedAt !== null,
          openSeconds: this.openedAt === null ? 0 : (at - this.openedAt) / 1000,
        };
        clearTimeout(timer);
        this.log('←', t('log.wsClosed', { code: event.code }) + (event.reason ? ` ${t('log.reason', { reason: event.reason })}` : '')
          + (event.wasClean ? '' : ` ${t('log.notClean')}`));
        resolve({ close: this.closed });
        for (const waiter of this.waiters) waiter.resolve(null);
        this.waiters.clear();
        if (this.onclose) this.onclose(this.closed);
      };
    });
  }

  receive(data) {
    const at = performance.now();
    this.log('←', `frame ${String(data).slice(0, 600)}`);
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      this.log('•', t('log.notJson'));
      return;
    }
    frame.receivedAt = at;
    for (const waiter of this.waiters) {
      if (waiter.match(frame)) {
        this.waiters.delete(waiter);
        waiter.resolve(frame);
        return;
      }
    }
    this.inbox.push(frame);
    if (this.inbox.length > INBOX_LIMIT) this.inbox.shift();
  }

  // The first frame (already received or still to come) that matches, or null on timeout or close.
  waitFor(match, timeoutMs) {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(null);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  // Sends a frame; returns the time it left, for latency measurements.
  send(frame) {
    const text = JSON.stringify(frame);
    this.socket.send(text);
    const at = performance.now();
    this.log('→', `frame ${text}`);
    return at;
  }

  // Resolves when the socket closes, or with null after timeoutMs.
  closedWithin(timeoutMs) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      const previous = this.onclose;
      this.onclose = (closed) => {
        clearTimeout(timer);
        this.onclose = previous;
        if (previous) previous(closed);
        resolve(closed);
      };
    });
  }

  close(code = 1000, reason = 'diagnostics page closed it') {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) {
      this.log('→', t('log.closing', { code }));
      this.socket.close(code, reason);
    }
  }
}
