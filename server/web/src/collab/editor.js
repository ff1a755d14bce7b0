// The editor of a collaborative form document (/documents/{id}) and the read-only view of one of its
// versions (/documents/{id}/versions/{vid}). The page (templates/document.html) names the document;
// the form schema comes from the document API, and every section of the form is bound to its Yjs
// shared type as the contract says (fields -> Y.Map, table -> Y.Array of Y.Map, richtext -> XML).
// Edits travel over y-websocket; y-indexeddb keeps them in the browser, so what is typed offline
// survives a closed tab and merges when the connection is back.
import "./editor.css";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { IndexeddbPersistence } from "y-indexeddb";
import { getJson, h, localTime, say } from "./api.js";
import { fieldsSection } from "./fields.js";
import { tableSection } from "./table.js";
import { richtextSection } from "./richtext.js";
import { colorOf, showPresence } from "./presence.js";
import { validationPanel } from "./validation.js";
import { byWhom, versionsPanel } from "./versions.js";

const SECTION_KINDS = { fields: fieldsSection, table: tableSection, richtext: richtextSection };

const STATES = {
  connected: "已连接",
  connecting: "连接中…",
  offline: "离线（修改已保存在本机，联网后自动合并）",
};

function buildSections(form, container, context) {
  const sections = new Map();
  container.replaceChildren();
  const intro = [form.title, form.description].filter(Boolean).join("：");
  if (intro) container.append(h("p", { class: "hint doc-form-intro" }, `表单：${intro}`));
  for (const section of form.sections) {
    const make = SECTION_KINDS[section.kind];
    if (!make) continue;
    const built = make(section, context);
    const element = h("section", { class: `card doc-section doc-kind-${section.kind}`, "data-section": section.key, "aria-labelledby": `s-${section.key}` },
      h("h2", { id: `s-${section.key}` }, section.title),
      h("p", { class: "doc-section-error", hidden: true }),
      built.body);
    container.append(element);
    sections.set(section.key, { ...built, element });
  }
  return sections;
}

function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function socketBase(wsPath, docId) {
  const path = wsPath?.endsWith(`/${docId}`) ? wsPath.slice(0, -(docId.length + 1)) : "/ws/docs";
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

// Close codes after which reconnecting cannot help (collab/socket.py): the editor stops and says why.
// Every other close (4429 over the message budget, 4408 idle, 4409 slow, 45xx) reconnects and resyncs.
const REFUSALS = {
  4400: "已断开：服务器无法识别本页发送的数据，请刷新页面",
  4401: "已断开：登录已失效，请重新登录（本机的修改已保存，登录后自动合并）",
  4403: "已断开：无权访问该文档",
  4404: "已断开：文档不存在或无权查看",
  4413: "已断开：文档内容超过大小上限，最近的修改未能保存",
};
const QUERY_AWARENESS = new Uint8Array([3]);
const shouldReconnect = (event) => !(event.code in REFUSALS);

// The connection line: 已连接, 连接中… before the first connection, 离线 once it was lost (or the
// browser is offline) until it is back.
function showConnection(provider, box) {
  let lost = !navigator.onLine;
  let refused = null;
  const render = () => {
    let state = provider.wsconnected ? "connected" : lost || !navigator.onLine ? "offline" : "connecting";
    if (refused && !provider.wsconnected) state = "refused";
    box.dataset.state = state;
    box.textContent = state === "refused" ? refused : STATES[state];
  };
  provider.on("status", ({ status }) => {
    if (status === "connected") { lost = false; refused = null; }
    if (status === "disconnected") lost = true;
    render();
  });
  provider.on("connection-close", () => { lost = true; render(); });
  provider.on("connection-error", () => { lost = true; render(); });
  provider.on("closed", ({ code }) => {
    refused = REFUSALS[code] ?? `已断开：服务器拒绝了连接（${code}），请刷新页面`;
    render();
  });
  // The browser knows it has no network: stop trying (an open socket would only die later) and keep
  // the edits in IndexedDB; the sync when the network is back sends them.
  addEventListener("offline", () => { lost = true; provider.disconnect(); render(); });
  addEventListener("online", () => { provider.connect(); render(); });
  render();
}

async function openLive(root, docId) {
  const [doc, me] = await Promise.all([getJson(`/api/v1/documents/${docId}`), getJson("/api/v1/me")]);
  if (!doc.ok) throw new Error(doc.error.message);
  const meta = doc.body;
  const user = me.ok ? me.body.user : null;
  const editable = meta.can_edit === true;
  root.dataset.canEdit = String(editable);
  document.getElementById("readonly-banner").hidden = editable;

  const ydoc = new Y.Doc();
  // Offline copy per document and user: never hand one person's unsent edits to another's session.
  // A read-only user's edits go nowhere, so they keep none.
  const local = editable && user ? new IndexeddbPersistence(`tongban:doc:${docId}:${user.id}`, ydoc) : null;
  const provider = new WebsocketProvider(socketBase(meta.ws_path, docId), docId, ydoc, {
    disableBc: true, // every tab has its own connection (and its own offline state)
    connect: navigator.onLine,
    shouldReconnect,
  });
  // Ask for the awareness states of those already here (y-websocket message type 3, "query
  // awareness"); the server sends them only when asked, and each client renews its own every 15 s.
  provider.on("status", ({ status }) => {
    if (status === "connected" && provider.ws?.readyState === WebSocket.OPEN) provider.ws.send(QUERY_AWARENESS);
  });
  const name = user?.display_name || user?.login || "访客";
  provider.awareness.setLocalStateField("user", { name, color: colorOf(name) });

  const sections = buildSections(meta.form, document.getElementById("doc-sections"),
    { ydoc, awareness: provider.awareness, editable });
  showConnection(provider, document.getElementById("connection-state"));
  showPresence(provider.awareness, document.getElementById("presence"));
  validationPanel({ docId, form: meta.form, sections, panel: document.getElementById("validation-panel") });
  versionsPanel({ docId, canEdit: editable, panel: document.getElementById("versions-panel") });

  let synced = false;
  provider.on("sync", (state) => {
    if (state && !synced) {
      synced = true;
      root.dataset.synced = "true";
    }
  });
  local?.whenSynced.then(() => { root.dataset.local = "loaded"; });
  addEventListener("pagehide", () => provider.awareness.setLocalState(null));
  // For tests and the console: the live objects of this page.
  window.tongbanEditor = { ydoc, provider, local, sections, storedLocally: () => storedLocally(local, meta.form) };
}

// What this browser keeps of the document in IndexedDB, per section (rich text as XML), read back
// from the stored updates: what a closed tab would bring back.
async function storedLocally(local, form) {
  if (!local) return {};
  await local.whenSynced;
  const updates = await new Promise((resolve, reject) => {
    const request = local.db.transaction("updates").objectStore("updates").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const copy = new Y.Doc();
  Y.transact(copy, () => updates.forEach((update) => Y.applyUpdate(copy, update)));
  const read = (s) => (s.kind === "fields" ? copy.getMap(s.key).toJSON()
    : s.kind === "table" ? copy.getArray(s.key).toJSON() : copy.getXmlFragment(s.key).toString());
  return Object.fromEntries(form.sections.map((s) => [s.key, read(s)]));
}

async function openVersion(root, docId, versionId) {
  const [doc, version] = await Promise.all([
    getJson(`/api/v1/documents/${docId}`),
    getJson(`/api/v1/documents/${docId}/versions/${versionId}`),
  ]);
  if (!doc.ok) throw new Error(doc.error.message);
  if (!version.ok) throw new Error(version.error.message);
  const v = version.body;
  const ydoc = new Y.Doc();
  Y.applyUpdate(ydoc, base64ToBytes(v.update ?? ""));
  document.getElementById("version-name").textContent = v.name;
  document.getElementById("version-meta").textContent =
    `${localTime(v.created_at)} · ${byWhom(v)}`;
  buildSections(doc.body.form, document.getElementById("doc-sections"), { ydoc, awareness: null, editable: false });
  window.tongbanEditor = { ydoc };
}

async function main() {
  const root = document.getElementById("document");
  if (!root) return;
  const { docId, versionId } = root.dataset;
  const failure = document.getElementById("load-error");
  try {
    if (versionId) await openVersion(root, docId, versionId);
    else await openLive(root, docId);
    root.dataset.ready = "true";
  } catch (error) {
    say(failure, `无法打开文档：${error.message}`);
  }
}

main();
