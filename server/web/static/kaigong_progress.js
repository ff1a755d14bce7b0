// The applicant's progress page of 开工一件事: the bundle's state, each item's department, state, due date,
// deadline (text on the badge), the last opinion (a correction's reason first), the project flowchart,
// and — for the owner enterprise — 补正后重新提交 and 撤回. Live through the project actor's stream: an
// event's case is shown at once, then the bundle state is fetched again (it is derived on the server,
// never here) and the flowchart image is reloaded.
// Labels and the transition table come from the page (server.approval.workflow), never spelt here.
import { el, getJson, localTime, postJson, say } from "./common.js";
import { subscribe } from "./live.js";

const root = document.getElementById("progress");
const projectId = root.dataset.projectId;
const mayApply = root.dataset.mayApply === "true";
const L = JSON.parse(document.getElementById("kaigong-labels").textContent);
const CONNECTION = { connecting: "连接中…", open: "已连接", reconnecting: "已断开，正在重连…", denied: "无权查看" };

const cases = new Map(); // case id → case, in submission and item order
let refreshTimer = null;
let asked = 0; // the latest progress request; older answers are dropped

const stateLabel = (s) => L.states[s] ?? s;
const may = (action, state) => L.transitions[action]?.side === "applicant" && L.transitions[action].sources.includes(state);

// The reason a department gave for the open correction outlives a later claim; otherwise the last step.
function lastOpinion(c) {
  const open = (c.pauses ?? []).filter((p) => !p.end).at(-1);
  if (c.state === "correction" && open?.reason) return `${L.actions.request_correction}：${open.reason}`;
  if (!c.last_action) return "—";
  const label = L.actions[c.last_action] ?? c.last_action;
  return c.last_reason ? `${label}：${c.last_reason}` : label;
}

// Before acceptance no clock runs: the badge says so rather than "正常".
function deadlineBadge(c) {
  const started = c.accepted_on || c.deadline_state === "done";
  const deadline = started ? c.deadline_state : "not_started";
  return el("span", started ? (L.deadlines[deadline] ?? deadline) : "未起算", { class: "badge deadline", "data-deadline": deadline });
}

function render() {
  const body = document.getElementById("case-body");
  const columns = mayApply ? 8 : 7;
  if (!cases.size) {
    const row = el("tr", null, { class: "empty" });
    row.append(el("td", "尚未提交开工一件事申请", { colspan: String(columns) }));
    body.replaceChildren(row);
  } else {
    body.replaceChildren(...[...cases.values()].map(caseRow));
  }
  const open = [...cases.values()].filter((c) => c.state === "correction");
  document.getElementById("correction-list").replaceChildren(
    ...open.map((c) => el("li", `${c.item_name}（${c.dept_name}）${lastOpinion(c)}`)),
  );
  document.getElementById("corrections").hidden = !open.length;
}

function caseRow(c) {
  const row = el("tr", null, { "data-case": c.id, "data-item": c.item_code });
  const add = (text, attrs) => { const td = el("td", text, attrs); row.append(td); return td; };
  add(c.item_name);
  add(c.dept_name);
  add(null).append(el("span", stateLabel(c.state), { class: "badge kg-state", "data-field": "state", "data-state": c.state }));
  add(c.accepted_on ?? "尚未受理");
  add(c.due_on ?? (c.accepted_on ? "补正后重新计算" : "受理后起算"));
  add(null).append(deadlineBadge(c));
  add(lastOpinion(c), { "data-field": "last" });
  if (mayApply) {
    const actions = add(null, { class: "actions" });
    if (may("resubmit", c.state)) {
      const button = el("button", L.actions.resubmit, { type: "button", "aria-label": `${L.actions.resubmit}：${c.item_name}` });
      button.addEventListener("click", () => act(c, "resubmit"));
      actions.append(button, " ");
    }
    if (may("withdraw", c.state)) {
      const button = el("button", L.actions.withdraw, { type: "button", class: "secondary", "aria-label": `${L.actions.withdraw}：${c.item_name}` });
      button.addEventListener("click", () => act(c, "withdraw"));
      actions.append(button);
    }
  }
  return row;
}

async function act(c, action) {
  const error = document.getElementById("action-error");
  const notice = document.getElementById("action-notice");
  say(error, ""); say(notice, "");
  if (action === "withdraw" && !confirm(`撤回后“${c.item_name}”的办理即终止，如需办理须重新申报。确认撤回？`)) return;
  const note = document.getElementById("applicant-note");
  const body = { action, reason: action === "resubmit" ? note.value.trim() : "" };
  const answer = await postJson(`/api/v1/kaigong/cases/${c.id}/applicant-actions`, body);
  if (!answer.ok) { say(error, answer.error.message); return; }
  if (action === "resubmit") note.value = "";
  say(notice, action === "resubmit" ? `已补正后重新提交：${c.item_name}，办理时限自次日起恢复计时` : `已撤回：${c.item_name}`);
  take(answer.body);
}

function take(progress) {
  cases.clear();
  for (const c of progress.cases) cases.set(c.id, c);
  const bundle = document.getElementById("bundle-state");
  bundle.textContent = progress.bundle_label;
  bundle.dataset.bundle = progress.bundle_state;
  render();
}

async function refresh() {
  const mine = ++asked;
  const answer = await getJson(`/api/v1/projects/${projectId}/kaigong`);
  if (mine !== asked) return;
  if (!answer.ok) { say(document.getElementById("page-error"), answer.error.message); return; }
  say(document.getElementById("page-error"), "");
  take(answer.body);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refresh(); loadNotices(); }, 200);
}

// -- the flowchart: reloaded with each change; missing or failing, the page goes on without it --------

const flowchart = document.getElementById("flowchart");
const flowchartNote = document.getElementById("flowchart-note");
flowchart.addEventListener("load", () => { flowchart.hidden = false; say(flowchartNote, ""); });
flowchart.addEventListener("error", () => { flowchart.hidden = true; say(flowchartNote, "流程图暂不可用，请以上方表格中的状态为准。"); });

function reloadFlowchart(version) {
  flowchart.src = `${flowchart.dataset.src}?v=${encodeURIComponent(version)}`;
}

// -- notices of this project ------------------------------------------------------------------------

async function loadNotices() {
  const answer = await getJson("/api/v1/kaigong/notices");
  const list = document.getElementById("notices");
  if (!answer.ok) { list.replaceChildren(el("li", answer.error.message)); return; }
  const mine = answer.body.items.filter((n) => n.project_id === projectId).slice(0, 20);
  if (!mine.length) { list.replaceChildren(el("li", "暂无提醒")); return; }
  list.replaceChildren(...mine.map((n) => {
    const li = el("li", null, { "data-kind": n.kind });
    li.append(el("time", localTime(n.at), { datetime: n.at }), el("span", n.message));
    return li;
  }));
}

// -- live -------------------------------------------------------------------------------------------

subscribe(`/ws/projects/${projectId}`, {
  onSnapshot(data, seq) {
    cases.clear();
    for (const c of data.cases ?? []) cases.set(c.id, c);
    const bundle = document.getElementById("bundle-state");
    bundle.textContent = data.bundle_label;
    bundle.dataset.bundle = data.bundle_state;
    render();
    reloadFlowchart(seq);
  },
  onEvent(frame) {
    if (frame.type === "kaigong.submitted") for (const c of frame.data.cases) cases.set(c.id, c);
    else if (frame.type === "case.changed") cases.set(frame.data.case.id, frame.data.case);
    else return;
    render();
    reloadFlowchart(frame.seq);
    scheduleRefresh();
  },
  onState(state) {
    const box = document.getElementById("connection-state");
    box.textContent = CONNECTION[state] ?? state;
    box.dataset.state = state;
  },
});
loadNotices();
