// The one WebSocket to /ws: reconnects with exponential back-off and full jitter (waiting at least
// what a `server_busy` frame asks before its 1013 close), refreshes the token when the server closes
// with 1008, and notices dead links.
import { AuthError, freshToken, refreshToken } from './api.js';
import { t } from './i18n.js';

const MAX_DELAY = 30_000;
const MIN_DELAY = 500;
const BASE_DELAY = 1_000;
const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;
const MAX_POLICY_CLOSES = 3;

export class Socket {
  /** onFrame(frame) for every frame; onState(state, detail) with state connecting|online|reconnecting|offline. */
  constructor({ onFrame, onState }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.state = null;
    this.attempt = 0;
    this.policyCloses = 0;
    this.everOnline = false;
    this.retryTimer = null;
    this.busyFor = 0; // ms the server asked to wait (server_busy), for the next retry only
    this.pingTimer = null;
    this.pongTimer = null;
  }

  start() {
    window.addEventListener('offline', () => {
      this.drop(t('socket.deviceOffline'));
      this.setState('offline', { reason: t('socket.deviceOffline') });
    });
    window.addEventListener('online', () => this.retryNow());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !this.ws) this.retryNow();
    });
    this.connect();
  }

  get online() {
    return this.state === 'online' && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a frame now; false when there is no open connection. */
  send(frame) {
    if (!this.online) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  setState(state, detail = {}) {
    this.state = state;
    this.onState(state, detail);
  }

  async connect() {
    clearTimeout(this.retryTimer);
    if (this.ws) return;
    this.setState(this.everOnline ? 'reconnecting' : 'connecting', { attempt: this.attempt });
    let token;
    try {
      token = await freshToken();
    } catch (error) {
      if (!(error instanceof AuthError)) this.scheduleRetry();
      return;
    }
    if (this.ws) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onmessage = (event) => this.received(ws, event);
    ws.onclose = (event) => this.closed(ws, event.code, event.reason, token);
  }

  received(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this.pongTimer);
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === 'error' && frame.code === 'server_busy') {
      this.busyFor = Math.max(0, Number(frame.retry_after) || 0) * 1000;
      return;
    }
    if (frame.type === 'connected') {
      this.attempt = 0;
      this.policyCloses = 0;
      this.everOnline = true;
      this.setState('online');
      this.heartbeat();
    }
    if (frame.type !== 'pong') this.onFrame(frame);
  }

  /** Forget the current connection without waiting for its close handshake. */
  drop(reason) {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    ws.close();
    this.closed(ws, 4408, reason, null, false);
  }

  async closed(ws, code, reason, token, reconnect = true) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.retryTimer);
    this.onFrame({ type: 'disconnected', code, reason });
    if (!reconnect) return;
    if (code === 1008) {
      // Expired or revoked token: get a new one through the session cookie, then try again.
      this.policyCloses += 1;
      if (this.policyCloses >= MAX_POLICY_CLOSES) {
        this.setState('offline', { reason: reason || t('socket.refused') });
        return;
      }
      try {
        await refreshToken(token);
      } catch (error) {
        if (!(error instanceof AuthError)) this.scheduleRetry();
        return;
      }
      this.connect();
      return;
    }
    if (!navigator.onLine) {
      this.setState('offline', { reason: t('socket.deviceOffline') });
      return;
    }
    this.scheduleRetry(reason);
  }

  /** Full jitter: anywhere from 0.5 s to min(30 s, 1 s × 2^attempt), so clients dropped together come
   * back spread out; never sooner than the server's `retry_after`. */
  scheduleRetry(reason = '') {
    const ceiling = Math.min(MAX_DELAY, BASE_DELAY * 2 ** this.attempt);
    const delay = Math.round(Math.max(MIN_DELAY, this.busyFor, Math.random() * ceiling));
    this.busyFor = 0;
    this.attempt += 1;
    this.setState(this.everOnline ? 'reconnecting' : 'connecting', { retryAt: Date.now() + delay, reason });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  retryNow() {
    this.attempt = 0;
    this.policyCloses = 0;
    this.connect();
  }

  /** Application pings: a link that went silent is dropped and redialled. */
  heartbeat() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      const ws = this.ws;
      this.pongTimer = setTimeout(() => {
        if (ws !== this.ws) return;
        this.drop(t('socket.noPong'));
        this.scheduleRetry(t('socket.noPong'));
      }, PONG_WITHIN);
    }, PING_EVERY);
  }
}
