// The live project status page: applies the project actor's events to the page as they happen.
import { subscribe } from "/static/live.js";
import { requestJson, say } from "/static/common.js";

const root = document.getElementById("project");
const timeline = document.getElementById("timeline");
const connection = document.getElementById("connection-state");

const STATUS_LABELS = {
  registered: "已登记，正在建立项目电子档案",
  archived: "项目电子档案已建立",
};
const TASK_LABELS = { pending: "待受理", in_review: "审查中", approved: "已通过", rejected: "不予许可", returned: "退回补正" };
const DEADLINE_LABELS = { on_time: "正常", due_soon: "即将到期", overdue: "已超期", done: "已办结" };
const FINAL = new Set(["approved", "rejected"]);
// What a department may do with its own open task, by its status.
const ACTIONS = {
  pending: [["in_review", "受理"]],
  in_review: [["approved", "通过"], ["returned", "退回补正"], ["rejected", "不予许可"]],
  returned: [["in_review", "重新受理"]],
};
const ownDept = root.dataset.ownDept;
const taskError = document.getElementById("task-error");

async function act(task, status) {
  const url = `/api/v1/projects/${root.dataset.projectId}/tasks/${task.dept_org_id}`;
  const answer = await requestJson("PUT", url, { status });
  say(taskError, answer.ok ? "" : answer.error.message); // on success the event redraws the board
}

function actionsFor(task) {
  const cell = document.createElement("td");
  cell.className = "actions";
  if (task.dept_org_id !== ownDept) return cell;
  for (const [status, label] of ACTIONS[task.status] ?? []) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", () => act(task, status));
    cell.append(button);
  }
  return cell;
}
const tasks = new Map(); // dept_org_id → task as the board shows it

function deptName(id) { return tasks.get(id)?.dept_name ?? "部门"; }

const EVENT_LABELS = {
  "project.created": (e) => `项目已登记：${e.data.name}（${e.data.code}）`,
  "project.archive_opened": (e) => `项目电子档案已建立，档案编号 ${e.data.archive_no}`,
  "project.approval_started": (e) => `已发起并联审批：${e.data.tasks.map((t) => t.dept_name).join("、")}`,
  "project.task_updated": (e) => `${deptName(e.data.dept_org_id)}：${TASK_LABELS[e.data.status] ?? e.data.status}`,
  "project.deadline_changed": (e) => `${deptName(e.data.dept_org_id)}：办理期限${DEADLINE_LABELS[e.data.alert]}`,
};

function renderBoard() {
  const body = document.querySelector("#board tbody");
  body.replaceChildren();
  if (tasks.size === 0) {
    const row = body.insertRow();
    row.className = "empty";
    const cell = row.insertCell();
    cell.colSpan = 6;
    cell.textContent = "尚未发起并联审批";
    return;
  }
  for (const task of [...tasks.values()].sort((a, b) => a.dept_name.localeCompare(b.dept_name, "zh-CN"))) {
    const row = body.insertRow();
    row.dataset.dept = task.dept_org_id;
    for (const text of [task.dept_name, task.item, TASK_LABELS[task.status] ?? task.status,
      `${task.due_on}（${task.limit_workdays} 个工作日）`]) {
      row.insertCell().textContent = text;
    }
    row.cells[2].dataset.field = "status";
    const badge = document.createElement("span");
    badge.className = "badge deadline";
    badge.dataset.deadline = task.deadline_state;
    badge.textContent = DEADLINE_LABELS[task.deadline_state] ?? task.deadline_state;
    row.insertCell().append(badge);
    row.append(actionsFor(task));
  }
}

function applyToBoard(event) {
  const data = event.data;
  if (event.type === "project.approval_started") {
    for (const task of data.tasks) tasks.set(task.dept_org_id, { ...task, deadline_state: task.alert });
  } else if (event.type === "project.task_updated" && tasks.has(data.dept_org_id)) {
    const task = tasks.get(data.dept_org_id);
    task.status = data.status;
    if (FINAL.has(data.status)) task.deadline_state = "done";
  } else if (event.type === "project.deadline_changed" && tasks.has(data.dept_org_id)) {
    const task = tasks.get(data.dept_org_id);
    if (task.deadline_state !== "done") task.deadline_state = data.alert;
  } else {
    return;
  }
  renderBoard();
}
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
  applyToBoard(event);
  addToTimeline(event);
}

subscribe(`/ws/projects/${root.dataset.projectId}`, {
  since: 0,
  onSnapshot(state) {
    setStatus(state.status);
    setField("archive_no", state.archive_no ?? "建立中");
    tasks.clear();
    for (const task of state.tasks ?? []) tasks.set(task.dept_org_id, task);
    renderBoard();
  },
  onEvent: applyEvent,
  onState(state) { connection.textContent = CONNECTION_LABELS[state] ?? state; connection.dataset.state = state; },
});
