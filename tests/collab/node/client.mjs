// The unmodified y-websocket provider as a browser would use it, in Node: connects to our server,
// types `text` one character at a time at the start of the shared Y.Text "text", and prints one JSON
// line {"content": ...} after sync and after every change, until the document holds `total`
// characters (then exits 0) or `timeout_ms` passes (exits 1).
// Usage: node client.mjs <ws base, e.g. ws://127.0.0.1:8000/ws/docs> <doc id> <text> <total> <timeout_ms>
// The session cookie comes from TONGBAN_COOKIE (never on the command line).
import WebSocket from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";

const [serverUrl, docId, text, total, timeoutMs] = process.argv.slice(2);
const cookie = process.env.TONGBAN_COOKIE ?? "";

class CookieWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { headers: { Cookie: cookie } });
  }
}

const doc = new Y.Doc();
const ytext = doc.getText("text");
const provider = new WebsocketProvider(serverUrl, docId, doc, { WebSocketPolyfill: CookieWebSocket, disableBc: true });
const say = () => process.stdout.write(JSON.stringify({ content: ytext.toString() }) + "\n");

const done = () => {
  if ([...ytext.toString()].length >= Number(total)) {
    say();
    provider.destroy();
    process.exit(0);
  }
};
setTimeout(() => { say(); process.exit(1); }, Number(timeoutMs));

provider.on("sync", async (synced) => {
  if (!synced) return;
  say();
  for (const char of text) {
    ytext.insert(0, char);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  doc.on("update", () => { say(); done(); });
  done();
});
