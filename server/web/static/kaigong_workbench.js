// The department's approval workbench (开工一件事): the queue sorted by urgency (the server sorts), a state
// filter, 认领, and a case panel with the case's facts, the actions its state allows the department, and
// every sibling case of the project (all departments) kept live by the project actor's stream. Each
// project in the queue is watched, so another department's step or the applicant's answer refreshes
// the queue and the panel without a reload; new submissions (new projects) arrive by a slow poll.
// Labels and the transition table come from the page (server.approval.workflow), never spelt here.
import { el, getJson, localTime, postJson, say } from "./common.js";
import { subscribe } from "./live.js";

const root = document.getElementById("workbench");
const userId = root.dataset.userId;
const L = JSON.parse(document.getElementById("kaigong-labels").textContent);
const FINAL = new Set(["approved", "refused", "withdrawn"]);
const CONNECTION = { connecting: "连接中…", open: "已连接", reconnecting: "已断开，正在重连…", denied: "无权查看" };
const WATCH_AT_MOST = 30; // projects of the queue watched live (the most urgent first)
const POLL_MS = 60_000;

const filter = document.getElementById("state-filter");
const pageError = document.getElementById("page-error");
const caseError = document.getElementById("case-error");
const caseNotice = document.getElementById("case-notice");
const reasonBox = document.getElementById("case-reason");

let items = []; // the queue as last loaded
const watched = new Map(); // project id → { sub, cases: Map(case id → case), state }
let panel = null; // { caseId, projectId, project_name, project_code, applicant_name }
let reloadTimer = null;

const stateLabel = (s) => L.states[s] ?? s;
const deadlineLabel = (d) => L.deadlines[d] ?? d;

// The deadline badge (text first, colour repeats it); before acceptance no clock runs, so not "正常".
function badge(c, attrs = {}) {
  const started = c.accepted_on || c.deadline_state === "done";
  const deadline = started ? c.deadline_state : "not_started";
  return el("span", started ? deadlineLabel(deadline) : "未起算", { class: "badge deadline", "data-deadline": deadline, ...attrs });
}

function stateBadge(state) {
  return el("span", stateLabel(state), { class: "badge kg-state", "data-field": "state", "data-state": state });
}

function cell(row, content, attrs = {}) {
  const td = el("td", typeof content === "string" ? content : null, attrs);
  if (content instanceof Node) td.append(content);
  row.append(td);
  return td;
}

// No due date: not accepted yet, or held by an open pause (补正) until the applicant answers.
function dueText(c) {
  if (c.due_on) return c.due_on;
  return c.accepted_on ? "补正后重新计算" : "受理后起算";
}

function claimText(claimedBy) {
  if (!claimedBy) return "未认领";
  return claimedBy === userId ? "本人已认领" : "本部门其他人员已认领";
}

// -- queue ------------------------------------------------------------------------------------------

async function loadQueue() {
  const wanted = filter.value;
  const answer = await getJson(`/api/v1/kaigong/queue${wanted ? `?state=${encodeURIComponent(wanted)}` : ""}`);
  if (!answer.ok) { say(pageError, answer.error.message); return; }
  if (wanted !== filter.value) return; // the filter changed while this was loading
  say(pageError, "");
  items = answer.body.items;
  renderQueue();
  watchQueue();
}

function renderQueue() {
  const body = document.getElementById("queue-body");
  document.getElementById("queue-count").textContent = `共 ${items.length} 件`;
  if (!items.length) {
    const row = el("tr", null, { class: "empty" });
    cell(row, filter.value ? "没有该状态的办件" : "暂无待办办件", { colspan: "9" });
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...items.map((item) => {
    const row = el("tr", null, { "data-case": item.id, "data-item": item.item_code, "data-project": item.project_id });
    if (panel?.caseId === item.id) row.setAttribute("aria-current", "true");
    cell(row, badge(item));
    const project = el("span", item.project_name);
    project.append(el("br"), el("small", item.project_code, { class: "hint mono" }));
    cell(row, project);
    cell(row, item.applicant_name);
    cell(row, item.item_name);
    cell(row, stateBadge(item.state));
    cell(row, item.accepted_on ?? "—");
    cell(row, dueText(item));
    cell(row, claimText(item.claimed_by), { "data-field": "claim" });
    const actions = cell(row, null, { class: "actions" });
    const what = `${item.item_name}（${item.project_name}）`;
    if (!item.claimed_by && !FINAL.has(item.state)) {
      const claim = el("button", "认领", { type: "button", class: "secondary", "aria-label": `认领 ${what}` });
      claim.addEventListener("click", () => claimCase(item.id, pageError));
      actions.append(claim, " ");
    }
    const open = el("button", "办理", { type: "button", "aria-label": `办理 ${what}` });
    open.addEventListener("click", () => openCase(item));
    actions.append(open);
    return row;
  }));
}

function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => { loadQueue(); loadNotices(); }, 250);
}

// -- live: one subscription per watched project -------------------------------------------------------

function watch(projectId) {
  if (watched.has(projectId)) return watched.get(projectId);
  const entry = { sub: null, cases: new Map(), state: "connecting" };
  watched.set(projectId, entry);
  entry.sub = subscribe(`/ws/projects/${projectId}`, {
    onSnapshot(data) {
      entry.cases = new Map((data.cases ?? []).map((c) => [c.id, c]));
      if (panel?.projectId === projectId) renderPanel();
    },
    onEvent(frame) {
      if (frame.type === "kaigong.submitted") for (const c of frame.data.cases) entry.cases.set(c.id, c);
      else if (frame.type === "case.changed") entry.cases.set(frame.data.case.id, frame.data.case);
      else return;
      if (panel?.projectId === projectId) renderPanel();
      scheduleReload();
    },
    onState(state) {
      entry.state = state;
      if (panel?.projectId === projectId) showConnection(state);
    },
  });
  return entry;
}

function watchQueue() {
  const wanted = new Set();
  for (const item of items) {
    if (wanted.size >= WATCH_AT_MOST) break;
    wanted.add(item.project_id);
  }
  if (panel) wanted.add(panel.projectId);
  for (const [projectId, entry] of watched) {
    if (!wanted.has(projectId)) { entry.sub.close(); watched.delete(projectId); }
  }
  for (const projectId of wanted) watch(projectId);
}

function showConnection(state) {
  const box = document.getElementById("connection-state");
  box.textContent = CONNECTION[state] ?? state;
  box.dataset.state = state;
}

// -- the case panel ---------------------------------------------------------------------------------

function openCase(item) {
  panel = {
    caseId: item.id, projectId: item.project_id, project_name: item.project_name,
    project_code: item.project_code, applicant_name: item.applicant_name,
  };
  say(caseError, ""); say(caseNotice, ""); reasonBox.value = "";
  const url = new URL(location.href);
  url.searchParams.set("case", item.id);
  history.replaceState(null, "", url);
  const entry = watch(item.project_id);
  document.getElementById("case-panel").hidden = false;
  showConnection(entry.state);
  renderPanel();
  renderQueue();
  loadCaseForm(item.id);
  document.getElementById("case-panel").scrollIntoView({ block: "start" });
}

// The department's part of the signed form: its item's fields and materials, and the signature check.
async function loadCaseForm(caseId) {
  const body = document.getElementById("case-form-body");
  const signature = document.getElementById("case-signature");
  body.replaceChildren();
  document.getElementById("case-materials").replaceChildren();
  const answer = await getJson(`/api/v1/kaigong/cases/${caseId}/form`);
  if (panel?.caseId !== caseId) return;
  if (!answer.ok) { signature.textContent = answer.error.message; return; }
  const form = answer.body;
  signature.textContent = form.signature.valid
    ? `企业电子签名有效（证书序列号 ${form.signature.certificate_serial}，联审编号 ${form.lianshen_no ?? "—"}）`
    : "企业电子签名验证未通过：申报内容可能被改动，请勿据此办理";
  body.replaceChildren(...form.fields.map((f) => {
    const row = el("tr");
    const value = typeof f.value === "boolean" ? (f.value ? "是" : "否") : `${f.value}${f.unit ? ` ${f.unit}` : ""}`;
    row.append(el("th", f.label), el("td", value));
    return row;
  }));
  const list = document.getElementById("case-materials");
  list.replaceChildren(...form.materials.map((m) => {
    const li = el("li", `${m.name}${m.required ? "（必交）" : ""}：`, { "data-material": m.code });
    if (!m.files.length) li.append(el("span", "未提交", { class: "hint" }));
    m.files.forEach((f, i) => {
      if (i) li.append("、");
      if (f.url) {
        const link = el("a", f.file_name, { href: f.url, download: f.file_name });
        link.title = `${sizeText(f.size)}，SM3 ${f.sm3}`;
        li.append(link, el("span", `（${sizeText(f.size)}）`, { class: "hint" }));
      } else li.append(el("span", `文件缺失（SM3 ${f.sm3.slice(0, 12)}…）`, { class: "hint" }));
    });
    return li;
  }));
  if (!form.materials.length) list.replaceChildren(el("li", "本事项无需申报材料", { class: "hint" }));
}

const sizeText = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

function describeLast(c) {
  if (!c.last_action) return "—";
  const label = L.actions[c.last_action] ?? c.last_action;
  return c.last_reason ? `${label}：${c.last_reason}` : label;
}

function describePauses(c) {
  if (!c.pauses?.length) return "无";
  return c.pauses.map((p) => {
    const span = `${p.start} 至 ${p.end ?? "今（计时暂停中）"}`;
    return `${L.pauses[p.kind] ?? p.kind} ${span}${p.reason ? `：${p.reason}` : ""}`;
  }).join("；");
}

function renderPanel() {
  if (!panel) return;
  const entry = watched.get(panel.projectId);
  const c = entry?.cases.get(panel.caseId) ?? items.find((i) => i.id === panel.caseId);
  if (!c) return;
  const siblings = [...(entry?.cases.values() ?? [])];
  document.getElementById("case-title").textContent = `${c.item_name} · ${panel.project_name}`;
  document.getElementById("case-project").textContent = panel.project_name;
  const link = document.getElementById("case-project-link");
  link.href = `/projects/${panel.projectId}`;
  document.getElementById("case-code").textContent = panel.project_code;
  document.getElementById("case-applicant").textContent = panel.applicant_name;
  document.getElementById("case-item").textContent = `${c.item_name}（${c.item_code}）`;
  document.getElementById("case-state").replaceChildren(stateBadge(c.state));
  document.getElementById("case-accepted").textContent = c.accepted_on ?? "尚未受理";
  document.getElementById("case-due").textContent = dueText(c);
  document.getElementById("case-deadline").replaceWith(badge(c, { id: "case-deadline", "data-testid": "case-deadline" }));
  const used = c.used_wd !== null && c.used_wd !== undefined ? `；实际用时 ${c.used_wd} 个工作日` : "";
  document.getElementById("case-limits").textContent = c.statutory_wd === undefined ? "—"
    : `法定 ${c.statutory_wd} 个工作日，承诺 ${c.committed_wd} 个工作日${used}`;
  document.getElementById("case-pauses").textContent = c.pauses ? describePauses(c) : "—";
  const before = (c.predecessors ?? []).map((code) => {
    const p = siblings.find((s) => s.item_code === code && s.application_id === c.application_id);
    return p ? `${p.item_name}（${p.dept_name}）：${stateLabel(p.state)}` : code;
  });
  document.getElementById("case-predecessors").textContent = before.length ? before.join("；") : "无";
  renderClaim(c);
  document.getElementById("case-last").textContent = describeLast(c);
  renderButtons(c);
  renderSiblings(c, siblings);
}

function renderClaim(c) {
  const box = document.getElementById("case-claim");
  box.replaceChildren(claimText(c.claimed_by));
  if (!c.claimed_by && !FINAL.has(c.state)) {
    const claim = el("button", "认领", { type: "button", class: "secondary" });
    claim.addEventListener("click", () => claimCase(c.id, caseError));
    box.append(" ", claim);
  }
}

function renderButtons(c) {
  const box = document.getElementById("case-buttons");
  const allowed = Object.entries(L.transitions)
    .filter(([, t]) => t.side === "department" && t.sources.includes(c.state));
  box.replaceChildren(...allowed.map(([action, t]) => {
    const danger = action === "refuse" || action === "request_correction";
    const button = el("button", L.actions[action] ?? action,
      { type: "submit", value: action, class: danger ? "danger" : "", "data-action": action });
    if (t.needs_reason) button.title = "须填写办理意见（理由）";
    return button;
  }));
  if (!allowed.length) box.replaceChildren(el("p", FINAL.has(c.state) ? "本办件已办结，无需操作。" : "当前状态无需本部门操作，等待申请单位。", { class: "hint" }));
  for (const button of box.querySelectorAll("button")) button.after(" ");
}

function renderSiblings(current, siblings) {
  const body = document.getElementById("sibling-body");
  body.replaceChildren(...siblings.map((s) => {
    const row = el("tr", null, { "data-case": s.id, "data-item": s.item_code });
    if (s.id === current.id) row.setAttribute("aria-current", "true");
    cell(row, s.id === current.id ? `${s.item_name}（本办件）` : s.item_name);
    cell(row, s.dept_name);
    cell(row, stateBadge(s.state));
    cell(row, dueText(s));
    cell(row, badge(s));
    cell(row, describeLast(s), { "data-field": "last" });
    return row;
  }));
}

// The progress the API answers after an action is the freshest state: show it at once.
function takeProgress(progress) {
  const entry = watched.get(progress.project_id);
  if (!entry) return;
  for (const c of progress.cases) entry.cases.set(c.id, c);
  if (panel?.projectId === progress.project_id) renderPanel();
}

async function claimCase(caseId, errorBox) {
  const answer = await postJson(`/api/v1/kaigong/cases/${caseId}/claim`, {});
  if (!answer.ok) { say(errorBox, answer.error.message); return; }
  say(errorBox, "");
  takeProgress(answer.body);
  scheduleReload();
}

async function act(event) {
  event.preventDefault();
  const action = event.submitter?.value;
  if (!panel || !action) return;
  say(caseError, ""); say(caseNotice, "");
  reasonBox.removeAttribute("aria-invalid");
  const buttons = [...document.querySelectorAll("#case-buttons button")];
  for (const b of buttons) b.disabled = true;
  const answer = await postJson(`/api/v1/kaigong/cases/${panel.caseId}/department-actions`,
    { action, reason: reasonBox.value.trim() });
  for (const b of buttons) b.disabled = false;
  if (!answer.ok) {
    say(caseError, answer.error.message);
    if ((answer.error.fields ?? []).some((f) => f.field === "reason")) {
      reasonBox.setAttribute("aria-invalid", "true");
      reasonBox.focus();
    }
    return;
  }
  reasonBox.value = "";
  say(caseNotice, `已${L.actions[action] ?? action}`);
  takeProgress(answer.body);
  scheduleReload();
}

// -- notices ----------------------------------------------------------------------------------------

async function loadNotices() {
  const answer = await getJson("/api/v1/kaigong/notices");
  const list = document.getElementById("notices");
  if (!answer.ok) { list.replaceChildren(el("li", answer.error.message)); return; }
  const shown = answer.body.items.slice(0, 20);
  if (!shown.length) { list.replaceChildren(el("li", "暂无提醒")); return; }
  list.replaceChildren(...shown.map((n) => {
    const li = el("li", null, { "data-kind": n.kind });
    li.append(el("time", localTime(n.at), { datetime: n.at }), el("span", n.message));
    return li;
  }));
}

// -- start ------------------------------------------------------------------------------------------

document.getElementById("queue-filter").addEventListener("submit", (e) => { e.preventDefault(); loadQueue(); });
filter.addEventListener("change", loadQueue);
document.getElementById("case-actions").addEventListener("submit", act);
setInterval(() => { if (document.visibilityState === "visible") scheduleReload(); }, POLL_MS);

await Promise.all([loadQueue(), loadNotices()]);
const wantedCase = new URL(location.href).searchParams.get("case");
if (wantedCase) {
  let item = items.find((i) => i.id === wantedCase);
  if (!item) {
    const all = await getJson("/api/v1/kaigong/queue?state=all");
    item = all.ok ? all.body.items.find((i) => i.id === wantedCase) : undefined;
  }
  if (item) openCase(item);
}
