// The one websocket client of the pages: subscribes to an actor's events, reconnects with the last
// sequence number it saw (so it receives exactly what it missed), and reports its state.
// `since: 0` asks for the whole history as events (the server sends a snapshot when it is too long).
export function subscribe(path, { since = null, onSnapshot, onEvent, onState }) {
  let lastSeq = since;
  let socket = null;
  let retry = 0;
  let closed = false;

  // The server sends a heartbeat every 30 s: a socket silent for much longer is half-open (a dead
  // server or network): drop it and reconnect rather than wait for TCP to notice.
  const SILENT_MS = 80_000;
  let lastFrameAt = Date.now();
  setInterval(() => {
    if (!closed && socket?.readyState === WebSocket.OPEN && Date.now() - lastFrameAt > SILENT_MS) socket.close();
  }, 10_000);

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = lastSeq === null ? "" : `?since=${lastSeq}`;
    socket = new WebSocket(`${scheme}://${location.host}${path}${query}`);
    onState?.("connecting");
    socket.onopen = () => { retry = 0; lastFrameAt = Date.now(); onState?.("open"); };
    socket.onmessage = (message) => {
      lastFrameAt = Date.now();
      const frame = JSON.parse(message.data);
      if (frame.type === "ping") return;
      if (frame.type === "snapshot") { lastSeq = frame.seq; onSnapshot?.(frame.data, frame.seq); return; }
      if (lastSeq !== null && frame.seq <= lastSeq) return; // already applied
      lastSeq = frame.seq;
      onEvent?.(frame);
    };
    socket.onclose = (event) => {
      if (closed) return;
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) { onState?.("denied"); return; }
      onState?.("reconnecting");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    };
  }
  connect();
  return { close() { closed = true; socket?.close(); } };
}
