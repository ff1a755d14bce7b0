// The live project status page: applies the project actor's events to the page as they happen.
import { subscribe } from "/static/live.js";

const root = document.getElementById("project");
const timeline = document.getElementById("timeline");
const connection = document.getElementById("connection-state");

const STATUS_LABELS = {
  registered: "已登记，正在建立项目电子档案",
  archived: "项目电子档案已建立",
};
const EVENT_LABELS = {
  "project.created": (e) => `项目已登记：${e.data.name}（${e.data.code}）`,
  "project.archive_opened": (e) => `项目电子档案已建立，档案编号 ${e.data.archive_no}`,
};
const CONNECTION_LABELS = { connecting: "连接中…", open: "已连接", reconnecting: "已断开，正在重连…", denied: "无权查看" };

function setField(name, value) {
  const el = root.querySelector(`[data-field="${name}"]`);
  if (el) el.textContent = value;
}

function setStatus(status) {
  const badge = root.querySelector('[data-field="status"]');
  badge.dataset.status = status;
  badge.textContent = STATUS_LABELS[status] ?? status;
}

function addToTimeline(event) {
  const item = document.createElement("li");
  const time = new Date(event.at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  const label = EVENT_LABELS[event.type]?.(event) ?? event.type;
  item.innerHTML = `<time></time><span></span>`;
  item.querySelector("time").textContent = time;
  item.querySelector("span").textContent = label;
  item.dataset.type = event.type;
  timeline.prepend(item);
}

function applyEvent(event) {
  if (event.type === "project.created") setStatus("registered");
  if (event.type === "project.archive_opened") {
    setStatus("archived");
    setField("archive_no", event.data.archive_no);
  }
  addToTimeline(event);
}

subscribe(`/ws/projects/${root.dataset.projectId}`, {
  since: 0,
  onSnapshot(state) {
    setStatus(state.status);
    setField("archive_no", state.archive_no ?? "建立中");
  },
  onEvent: applyEvent,
  onState(state) { connection.textContent = CONNECTION_LABELS[state] ?? state; connection.dataset.state = state; },
});
