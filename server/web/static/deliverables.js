// The deliverables page of a project (出具文件): generate a document from a saved filling version or
// from certificate data, watch its generation live (the deliverable actor's events), preview every
// sheet or page, issue it (the platform signs it), revoke it, download it, open its verification page.
import { el, getJson, localTime, postJson, say } from "./common.js";
import { subscribe } from "./live.js";

const page = document.getElementById("deliverables");
const projectId = page.dataset.projectId;
const mayFill = page.dataset.mayFill === "true";
const mayCertify = page.dataset.mayCertify === "true";
const STATUS = { queued: "排队中", rendering: "生成中", draft: "待签发", failed: "生成失败", issued: "有效（已签发）", revoked: "已撤销" };
const STEP = { render: "正在排版与绘制", store: "正在保存" };
let kinds = {};
let current = null; // the deliverable shown in the detail panel
let live = null;

function problemsInto(list, problems) {
  list.replaceChildren(...(problems ?? []).map((p) => el("li", `${p.field}：${p.message}`)));
  list.hidden = !problems?.length;
}

async function loadKinds() {
  const answer = await getJson("/api/v1/deliverables/kinds");
  if (!answer.ok) { say(document.getElementById("page-error"), answer.error.message); return; }
  say(document.getElementById("dwg-note"), answer.body.dwg_note);
  const select = document.getElementById("kind-select");
  for (const kind of answer.body.kinds) {
    kinds[kind.key] = kind;
    const allowed = kind.source === "filling" ? mayFill : mayCertify;
    if (select && allowed) select.append(el("option", kind.title, { value: kind.key }));
  }
}

async function loadDocuments() {
  const answer = await getJson(`/api/v1/projects/${projectId}/documents`);
  const select = document.getElementById("doc-select");
  if (!answer.ok || !select) return;
  for (const doc of answer.body.items.filter((d) => d.form === "bim_building")) {
    select.append(el("option", doc.title, { value: doc.id }));
  }
}

async function loadVersions(docId) {
  const select = document.getElementById("version-select");
  select.replaceChildren(el("option", docId ? "请选择版本" : "请先选择文档", { value: "" }));
  if (!docId) return;
  const answer = await getJson(`/api/v1/documents/${docId}/versions`);
  if (!answer.ok) return;
  for (const v of answer.body.items) {
    select.append(el("option", `${v.name}（${localTime(v.created_at)}${v.submitted ? "，已提交" : ""}）`, { value: v.id }));
  }
}

function showKindInputs(key) {
  const kind = kinds[key];
  const filling = document.getElementById("filling-source");
  const fields = document.getElementById("template-fields");
  filling.hidden = kind?.source !== "filling";
  fields.hidden = kind?.source !== "template";
  fields.replaceChildren();
  if (kind?.source !== "template") return;
  for (const field of kind.fields) {
    const table = field.type === "table";
    const input = table
      ? el("textarea", null, { name: field.key, rows: "4", "data-type": "table" })
      : el("input", null, { name: field.key, "data-type": field.type });
    if (field.required) input.required = !table;
    if (field.max_length) input.maxLength = field.max_length;
    const sample = kind.sample?.[field.key];
    if (sample !== undefined) input.value = table ? JSON.stringify(sample) : String(sample);
    const label = el("label", `${field.label}${field.required ? "" : "（可选）"} `);
    label.append(input);
    fields.append(label);
  }
}

async function generate(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("generate-error");
  const problems = document.getElementById("generate-problems");
  say(error, ""); problemsInto(problems, []);
  const kind = kinds[form.elements.kind.value];
  if (!kind) { say(error, "请选择文件类型"); return; }
  const body = { kind: kind.key };
  if (kind.source === "filling") {
    body.doc_id = form.elements.doc_id.value || null;
    body.version_id = form.elements.version_id.value || null;
    const names = [...form.querySelectorAll("input[name=signatory]")].filter((i) => i.value.trim());
    if (names.length) body.signatories = Object.fromEntries(names.map((i) => [i.dataset.role, i.value.trim()]));
  } else {
    body.data = {};
    for (const input of document.getElementById("template-fields").querySelectorAll("[name]")) {
      const text = input.value.trim();
      if (text === "") continue;
      const type = input.dataset.type;
      if (type === "table") {
        try { body.data[input.name] = JSON.parse(text); } catch { say(error, "表格字段应为 JSON 数组"); return; }
      } else if (type === "number" || type === "integer") {
        body.data[input.name] = Number(text);
      } else body.data[input.name] = text;
    }
  }
  const answer = await postJson(`/api/v1/projects/${projectId}/deliverables`, body);
  if (!answer.ok) { say(error, answer.error.message); problemsInto(problems, answer.error.fields); return; }
  await loadList();
  show(answer.body);
}

async function loadList() {
  const answer = await getJson(`/api/v1/projects/${projectId}/deliverables`);
  const body = document.getElementById("deliverable-list");
  if (!answer.ok) { say(document.getElementById("page-error"), answer.error.message); return; }
  if (!answer.body.deliverables.length) { body.replaceChildren(el("tr", null)); body.firstChild.append(el("td", "尚未出具文件", { colspan: "6" })); return; }
  body.replaceChildren(...answer.body.deliverables.map((d) => {
    const row = el("tr", null, { "data-id": d.id });
    const open = el("button", "查看", { type: "button", class: "secondary small", "aria-label": `查看 ${d.id}` });
    open.addEventListener("click", () => show(d));
    const actions = el("td");
    actions.append(open);
    row.append(el("td", d.id, { class: "mono" }), el("td", d.title), el("td", `第 ${d.revision} 版`),
      el("td", STATUS[d.status] ?? d.status, { "data-status": d.status }), el("td", localTime(d.created_at)), actions);
    return row;
  }));
}

function render(d, state) {
  const status = state?.status ?? d.status;
  document.getElementById("detail-title").textContent = `${d.title}（第 ${d.revision} 版）`;
  document.getElementById("detail-id").textContent = d.id;
  const label = STATUS[status] ?? status;
  const step = state?.step ? `：${STEP[state.step] ?? state.step}` : "";
  document.getElementById("detail-status").textContent = label + step;
  document.getElementById("detail-status").dataset.status = status;
  const progress = document.getElementById("detail-progress");
  progress.hidden = !(status === "queued" || status === "rendering");
  progress.value = state?.percent ?? 0;
  document.getElementById("detail-pages").textContent = d.pages ? `${d.pages}${d.sheet_numbers.length ? `（${d.sheet_numbers.join("、")}）` : ""}` : "—";
  document.getElementById("detail-digest").textContent = d.content_sm3;
  const verify = document.getElementById("detail-verify");
  verify.href = d.verify_url; verify.textContent = d.verify_url;
  const files = document.getElementById("detail-files");
  files.replaceChildren(...d.files.map((f) => {
    const link = el("a", `${f.ext.toUpperCase()}（${Math.ceil(f.size / 1024)} KB）`, { href: f.url, "data-ext": f.ext });
    const span = el("span"); span.append(link, " ");
    return span;
  }));
  problemsInto(document.getElementById("detail-problems"), state?.problems?.length ? state.problems : d.problems);
  const mayAct = kinds[d.kind]?.source === "filling" ? mayFill : mayCertify;
  document.getElementById("issue-button").hidden = !(mayAct && status === "draft");
  document.getElementById("revoke-form").hidden = !(mayAct && status === "issued");
  const previews = document.getElementById("detail-previews");
  previews.replaceChildren(...d.previews.map((url, i) => {
    const figure = el("figure");
    const image = el("img", null, { src: url, alt: `第 ${i + 1} 页预览`, loading: "lazy" });
    figure.append(image, el("figcaption", d.sheet_numbers[i] ?? `第 ${i + 1} 页`));
    return figure;
  }));
}

async function refresh(id) {
  const answer = await getJson(`/api/v1/deliverables/${id}`);
  if (answer.ok && current?.id === id) { current = answer.body; render(current); }
  await loadList();
}

function show(d) {
  current = d;
  document.getElementById("detail").hidden = false;
  say(document.getElementById("detail-error"), ""); say(document.getElementById("detail-notice"), "");
  render(d);
  live?.close?.();
  let state = null;
  live = subscribe(d.ws_path, {
    since: 0,
    onSnapshot: (data) => { state = data; render(current, state); },
    onEvent: (frame) => {
      if (current?.id !== d.id) return;
      const data = frame.data;
      if (frame.type === "deliverable.progress") state = { ...state, status: "rendering", step: data.step, percent: data.percent };
      else if (frame.type === "deliverable.rendered") { state = { ...state, status: "draft", step: null, percent: 100 }; refresh(d.id); }
      else if (frame.type === "deliverable.failed") { state = { ...state, status: "failed", step: null, problems: data.problems }; refresh(d.id); }
      else if (frame.type === "deliverable.issued") { state = { ...state, status: "issued" }; refresh(d.id); }
      else if (frame.type === "deliverable.revoked") { state = { ...state, status: "revoked" }; refresh(d.id); }
      render(current, state);
    },
  });
}

document.getElementById("issue-button").addEventListener("click", async () => {
  if (!current || !confirm("签发后文件即具有效力，平台将以 SM2 签名。确认签发？")) return;
  const answer = await postJson(`/api/v1/deliverables/${current.id}/issue`, {});
  if (!answer.ok) { say(document.getElementById("detail-error"), answer.error.message); return; }
  say(document.getElementById("detail-notice"), "已签发");
  current = answer.body; render(current); loadList();
});

document.getElementById("revoke-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson(`/api/v1/deliverables/${current.id}/revoke`, { reason: event.target.elements.reason.value });
  if (!answer.ok) { say(document.getElementById("detail-error"), answer.error.message); return; }
  say(document.getElementById("detail-notice"), "已撤销");
  current = answer.body; render(current); loadList();
});

document.getElementById("generate")?.addEventListener("submit", generate);
document.getElementById("kind-select")?.addEventListener("change", (e) => showKindInputs(e.target.value));
document.getElementById("doc-select")?.addEventListener("change", (e) => loadVersions(e.target.value));
await loadKinds();
await Promise.all([loadDocuments(), loadList()]);
