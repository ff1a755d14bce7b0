// 开工一件事专栏: the consultation form (field errors next to their fields, a character counter), the
// progress query's refresh (the table and the flowchart, every minute and on demand) and the
// administrators' reply and close buttons. Every text goes into the page as text, never as HTML.
import { el, getJson, postJson, say } from "/static/common.js";

const REFRESH_MS = 60_000;

function consultForm(form) {
  const content = form.querySelector("#content");
  const counter = document.getElementById("content-count");
  const max = Number(content.getAttribute("maxlength"));
  const box = document.getElementById("consult-error");
  const done = document.getElementById("consult-done");
  const count = () => { counter.textContent = `还可输入 ${Math.max(0, max - content.value.length)} 字`; };
  content.addEventListener("input", count);

  const clearErrors = () => {
    for (const p of form.querySelectorAll("[data-error-for]")) p.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    say(box, "");
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const data = new FormData(form);
    const body = {
      kind: data.get("kind"), item_code: data.get("item_code") || null, name: data.get("name"),
      phone: data.get("phone"), content: data.get("content"),
    };
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    const result = await postJson("/api/v1/kaigong/messages", body);
    button.disabled = false;
    if (!result.ok) {
      let first = null;
      for (const f of result.error.fields ?? []) {
        const slot = form.querySelector(`[data-error-for="${CSS.escape(f.field)}"]`);
        const input = form.querySelector(`[name="${CSS.escape(f.field)}"]`);
        if (slot) slot.textContent = f.message;
        if (input) { input.setAttribute("aria-invalid", "true"); first ??= input; }
      }
      say(box, result.error.message);
      first?.focus();
      return;
    }
    form.reset();
    count();
    form.hidden = true;
    say(done, `留言已提交（编号 ${result.body.id.slice(0, 8)}），工作人员将通过您留下的手机号码答复。`);
  });
}

function queryRefresh(result) {
  const code = result.dataset.code;
  const stamp = document.getElementById("refreshed");
  const refresh = async () => {
    const answer = await getJson(`/api/v1/kaigong/progress?code=${encodeURIComponent(code)}`);
    if (!answer.ok) { stamp.textContent = `刷新失败：${answer.error.message}`; return; }
    const bundle = document.getElementById("bundle-state");
    bundle.textContent = answer.body.bundle_label;
    bundle.dataset.bundle = answer.body.bundle_state;
    const rows = document.querySelector("#progress-items tbody");
    rows.replaceChildren(...answer.body.cases.map((c) => {
      const row = el("tr", null, { "data-code": c.item_code });
      row.append(el("td", c.item_name), el("td", c.dept_name));
      const state = el("td"); state.append(el("span", c.state_label, { class: "badge kg-state", "data-state": c.state }));
      const deadline = el("td");
      deadline.append(el("span", c.deadline_label, { class: "badge deadline", "data-deadline": c.deadline_state }));
      row.append(state, el("td", c.accepted_on ?? "—"), el("td", c.due_on ?? "—"), deadline);
      return row;
    }));
    const svg = await fetch(`/kaigong/query/flowchart.svg?code=${encodeURIComponent(code)}`, { cache: "no-store" });
    if (svg.ok) {
      const doc = new DOMParser().parseFromString(await svg.text(), "image/svg+xml");
      const root = doc.documentElement;
      if (root.nodeName === "svg") document.getElementById("progress-flowchart").replaceChildren(document.importNode(root, true));
    }
    stamp.textContent = `查询时间：${new Date().toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })}`;
  };
  document.getElementById("refresh").addEventListener("click", refresh);
  setInterval(refresh, REFRESH_MS);
}

function adminReplies() {
  const box = document.getElementById("admin-error");
  for (const form of document.querySelectorAll(".kg-reply-form")) {
    const send = async (close) => {
      say(box, "");
      const reply = form.querySelector("textarea").value;
      const result = await postJson(`/api/v1/admin/kaigong/messages/${form.dataset.id}/reply`, { reply, close });
      if (!result.ok) { say(box, result.error.message); return; }
      location.reload();
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); send(false); });
    form.querySelector("[data-close]").addEventListener("click", () => {
      if (confirm("关闭后该留言不再接受答复，确定关闭？")) send(true);
    });
  }
}

const consult = document.getElementById("consult-form");
if (consult) consultForm(consult);
const result = document.getElementById("result");
if (result) queryRefresh(result);
if (document.querySelector(".kg-reply-form")) adminReplies();
