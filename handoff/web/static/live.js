/*
 * The live event stream: the service's WebSocket /api/ws.
 *
 * Reconnects with exponential backoff and jitter (1 s doubling to 30 s) and
 * reports its state ("connecting", "online", "reconnecting") so the top bar
 * can show it; after a reconnect the app reloads what it may have missed.
 */

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
/** The service closes with this code when the session is gone: no retry, sign in again. */
const UNAUTHORIZED = 4401;

export class LiveConnection {
  /**
   * @param {Object} handlers
   * @param {(event: Object) => void} handlers.onEvent one parsed server event
   * @param {(state: string) => void} handlers.onState connection state changes
   * @param {() => void} handlers.onReconnect after a connection that followed a drop
   * @param {() => void} [handlers.onUnauthorized] the service refused the session (4401)
   */
  constructor({ onEvent, onState, onReconnect, onUnauthorized = () => {} }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.onUnauthorized = onUnauthorized;
    this.attempt = 0;
    this.everConnected = false;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/api/ws`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }

  connect() {
    this.onState(this.everConnected ? "reconnecting" : "connecting");
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch (_) {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const wasReconnect = this.everConnected;
      this.attempt = 0;
      this.everConnected = true;
      this.onState("online");
      if (wasReconnect) this.onReconnect();
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (_) {
        return; // not ours to interpret
      }
      if (event && typeof event.type === "string") this.onEvent(event);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === UNAUTHORIZED) {
        this.stopped = true;
        this.onUnauthorized();
        return;
      }
      if (!this.stopped) this.scheduleRetry();
    });
  }

  scheduleRetry() {
    this.onState(this.everConnected ? "reconnecting" : "connecting");
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
