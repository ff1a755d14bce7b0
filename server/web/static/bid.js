// The live bid session page (评标会议): folds the bid actor's snapshot and events into the expert table
// (在线/离线, time online, unfinished annotations) and the list of reminders sent, as they happen.
import { localTime } from "/static/common.js";
import { subscribe } from "/static/live.js";

const root = document.getElementById("bid");
const rows = document.querySelector("#experts tbody");
const reminderList = document.getElementById("reminders");
const noReminders = document.getElementById("no-reminders");
const pendingField = root.querySelector('[data-field="pending"]');
const connection = document.getElementById("connection-state");

const CONNECTION_LABELS = { connecting: "连接中…", open: "已连接", reconnecting: "已断开，正在重连…", denied: "无权查看" };

const experts = new Map(); // user id → { name, login, closed (s), since (ms, server clock) | null, open }
const connections = new Map(); // websocket id → expert user id
const pending = new Set(); // reminder ids not yet fired
let offset = 0; // the server's clock minus ours (ms): time online is counted on the server's clock

const serverNow = () => Date.now() + offset;

function duration(total) {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h} 小时 ` : ""}${h || m ? `${m} 分 ` : ""}${s} 秒`;
}

function secondsOnline(expert) {
  const current = expert.since === null ? 0 : Math.max(0, serverNow() - expert.since) / 1000;
  return Math.floor(expert.closed + current);
}


function cell(row, field, text) {
  const td = document.createElement("td");
  td.dataset.field = field;
  td.textContent = text;
  row.append(td);
  return td;
}

function renderExperts() {
  const fresh = [];
  for (const [id, expert] of experts) {
    const row = document.createElement("tr");
    row.dataset.expertId = id;
    cell(row, "name", `${expert.name}（${expert.login}）`);
    const status = document.createElement("span");
    const online = expert.since !== null;
    status.className = "badge";
    status.dataset.field = "status";
    status.dataset.status = online ? "online" : "offline";
    status.textContent = online ? "在线" : "离线";
    cell(row, "status-cell", "").append(status);
    cell(row, "time", duration(secondsOnline(expert)));
    cell(row, "open", String(expert.open));
    fresh.push(row);
  }
  rows.replaceChildren(...fresh);
  pendingField.textContent = `${pending.size} 条`;
}

function tickTimes() {
  for (const row of rows.querySelectorAll("tr")) {
    const expert = experts.get(row.dataset.expertId);
    if (expert && expert.since !== null) {
      row.querySelector('[data-field="time"]').textContent = duration(secondsOnline(expert));
    }
  }
}

function addReminder(reminder, atTop) {
  const item = document.createElement("li");
  item.dataset.type = "bid.reminder_sent";
  const time = document.createElement("time");
  time.textContent = localTime(reminder.at);
  const text = document.createElement("span");
  text.textContent = `提醒 ${reminder.expert_name}：${reminder.reason}`;
  item.append(time, text);
  if (atTop) reminderList.prepend(item); else reminderList.append(item);
  noReminders.hidden = true;
}

function onSnapshot(view) {
  offset = Date.parse(view.now) - Date.now();
  experts.clear();
  for (const e of view.experts) {
    const since = e.online_since === null ? null : Date.parse(e.online_since);
    const current = since === null ? 0 : Math.max(0, Date.parse(view.now) - since) / 1000;
    experts.set(e.user_id, { name: e.name, login: e.login, closed: e.seconds_online - current, since, open: e.open_annotations });
  }
  connections.clear();
  for (const [conn, userId] of Object.entries(view.connections)) connections.set(conn, userId);
  pending.clear();
  for (const p of view.pending_reminders) pending.add(p.reminder_id);
  reminderList.replaceChildren();
  noReminders.hidden = view.reminders.length > 0;
  for (const r of view.reminders) addReminder(r, false);
  renderExperts();
}

function joined(event) {
  const expert = experts.get(event.data.user_id);
  if (!expert) return; // an organiser watching: not an expert of this session
  connections.set(event.data.conn, event.data.user_id);
  if (expert.since === null) expert.since = Date.parse(event.at);
}

function left(event) {
  const userId = connections.get(event.data.conn);
  if (userId === undefined) return;
  connections.delete(event.data.conn);
  const expert = experts.get(userId);
  if ([...connections.values()].includes(userId) || expert.since === null) return;
  expert.closed += Math.max(0, Date.parse(event.at) - expert.since) / 1000;
  expert.since = null;
}

function onEvent(event) {
  const data = event.data;
  switch (event.type) {
    case "presence.joined": joined(event); break;
    case "presence.left": left(event); break;
    case "bid.annotation_recorded": {
      const expert = experts.get(data.expert_id);
      if (expert) expert.open = data.open_annotations;
      break;
    }
    case "bid.reminder_scheduled": pending.add(data.reminder_id); break;
    case "bid.reminder_fired": pending.delete(data.reminder_id); break;
    case "bid.reminder_sent": {
      const name = experts.get(data.expert_id)?.name ?? "";
      addReminder({ at: event.at, expert_name: name, reason: data.reason }, true);
      break;
    }
    default: break;
  }
  renderExperts();
}

subscribe(`/ws/bids/${root.dataset.bidId}`, {
  onSnapshot,
  onEvent,
  onState(state) { connection.textContent = CONNECTION_LABELS[state] ?? state; connection.dataset.state = state; },
});
setInterval(tickTimes, 1000);
