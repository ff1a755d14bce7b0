// The one form of 开工一件事: facts decide the applicable items, the merged fields are checked live (the
// server's rules, on every change), the draft is saved continuously with its revision, and the form is
// signed with the enterprise's SM2 key (sm-crypto) and submitted with an Idempotency-Key that survives a
// reload, so a double submission records one application.
import { el, getJson, postJson, requestJson, say } from "./common.js";
import { canonical, signText, utf8Base64 } from "./kaigong/sign.js";

const page = document.getElementById("apply");
const projectId = page.dataset.projectId;
const base = `/api/v1/projects/${projectId}/kaigong`;
let form = null; // the last merged form from the server
let values = {};
let revision = 0;
let prefilled = new Set();
let key = null; // {private_key_hex, certificate_id} from the key file
let checkTimer = null;
let saveTimer = null;
let saving = Promise.resolve();

const idempotencyKey = (() => {
  const name = `kaigong-submit-${projectId}`;
  let value = sessionStorage.getItem(name);
  if (!value) { value = crypto.randomUUID(); sessionStorage.setItem(name, value); }
  return value;
})();

function inputFor(field) {
  let input;
  if (field.type === "select") {
    input = el("select", null, { name: field.key, id: `f-${field.key}` });
    input.append(el("option", "请选择", { value: "" }), ...field.options.map((o) => el("option", o, { value: o })));
  } else if (field.type === "boolean") {
    input = el("input", null, { type: "checkbox", name: field.key, id: `f-${field.key}` });
  } else {
    const type = { number: "number", integer: "number", date: "date" }[field.type] ?? "text";
    input = el("input", null, { type, name: field.key, id: `f-${field.key}` });
    if (field.type === "integer") input.step = "1";
    if (field.type === "number") input.step = "any";
    if (field.max_length) input.maxLength = field.max_length;
  }
  const value = values[field.key];
  if (field.type === "boolean") input.checked = value === true;
  else if (value !== undefined && value !== null) input.value = String(value);
  input.dataset.type = field.type;
  return input;
}

function readInput(input) {
  const type = input.dataset.type;
  if (type === "boolean") return input.checked;
  const text = input.value.trim();
  if (text === "") return undefined;
  if (type === "number" || type === "integer") return Number(text);
  return text;
}

const factKeys = () => new Set(form.facts.map((f) => f.key));

function fieldBox(field, uses) {
  const wrap = el("div", null, { class: "field", "data-key": field.key });
  const label = el("label", field.label, { for: `f-${field.key}`, class: field.required ? "required" : "" });
  if (field.unit) label.append(`（${field.unit}）`);
  if (uses) label.append(el("span", `用于：${uses}`, { class: "uses" }));
  if (prefilled.has(field.key)) label.append(el("span", "已预填", { class: "prefilled" }));
  const input = inputFor(field);
  const hint = field.help || field.pattern_hint;
  wrap.append(label, input);
  if (hint) wrap.append(el("p", hint, { class: "hint" }));
  wrap.append(el("p", "", { class: "field-error", id: `e-${field.key}`, role: "alert" }));
  input.setAttribute("aria-describedby", `e-${field.key}`);
  return wrap;
}

function renderFacts() {
  const box = document.getElementById("facts");
  box.replaceChildren(...form.facts.map((fact) => {
    if (fact.field) return fieldBox(fact.field, null);
    const label = el("label", null);
    const input = fact.kind === "boolean"
      ? el("input", null, { type: "checkbox", name: fact.key, "data-type": "boolean" })
      : el("input", null, { type: fact.kind === "number" ? "number" : "text", name: fact.key, "data-type": fact.kind, step: "any" });
    if (fact.kind === "boolean") input.checked = values[fact.key] === true;
    else if (values[fact.key] !== undefined) input.value = String(values[fact.key]);
    label.append(input, fact.label);
    return label;
  }));
}

function itemNames(codes) {
  const names = Object.fromEntries(form.items.map((i) => [i.code, i.name]));
  return codes.map((c) => names[c] ?? c).join("、");
}

function renderFields() {
  const box = document.getElementById("fields");
  const focused = document.activeElement?.name;
  const facts = factKeys();
  const shown = form.fields.filter((f) => !facts.has(f.key));
  box.replaceChildren(...shown.map((field) => fieldBox(field, itemNames(field.items))));
  if (!shown.length) box.replaceChildren(el("p", "填写项目情况后，这里列出各事项需要的信息", { class: "hint" }));
  document.getElementById("field-count").textContent = `（共 ${shown.length} 项，各事项共用的只填一次）`;
  if (focused) document.querySelector(`[name="${focused}"]`)?.focus();
}

function renderItems() {
  const list = document.getElementById("items");
  list.replaceChildren(...form.items.map((item) => {
    const li = el("li", item.name, { "data-code": item.code });
    li.append(el("span", `${deptName(item.dept_code)} · 法定 ${item.statutory_workdays} 个工作日，承诺 ${item.committed_workdays} 个工作日`, { class: "dept" }));
    if (item.predecessors.length) li.append(el("span", `前置：${itemNames(item.predecessors)}`, { class: "dept" }));
    return li;
  }));
  if (!form.items.length) list.replaceChildren(el("li", "请先填写项目情况"));
  document.getElementById("project-type").textContent = `项目类型：${form.project_type}`;
  const materials = document.getElementById("materials");
  materials.replaceChildren(...form.materials.map((m) => {
    const li = el("li", m.name);
    li.append(` （${itemNames(m.items)}）`);
    if (m.required) li.append(el("span", " 必交", { class: "req" }));
    return li;
  }));
  if (!form.materials.length) materials.replaceChildren(el("li", "暂无"));
}

const DEPTS = { "DEPT-ZJW": "市住房城乡建设管理委", "DEPT-SW": "市水务局", "DEPT-JT": "市交通委", "DEPT-MF": "市民防办",
  "DEPT-LHSR": "市绿化市容局", "DEPT-GHZY": "市规划资源局", "DEPT-XF": "市消防救援总队" };
const deptName = (code) => DEPTS[code] ?? code;

function renderErrors() {
  const byField = new Map(form.errors.map((e) => [e.path, e.message]));
  for (const box of document.querySelectorAll(".field")) {
    const message = byField.get(box.dataset.key) ?? "";
    box.querySelector(".field-error").textContent = message;
    box.querySelector("input, select")?.setAttribute("aria-invalid", message ? "true" : "false");
  }
  const count = form.errors.length;
  document.getElementById("error-count").textContent = count ? `还有 ${count} 处需要修改` : "表单已填写完整，可以签名提交";
}

function collect() {
  for (const input of document.querySelectorAll("#kaigong-form [name]")) {
    if (input.type === "file") continue;
    const value = readInput(input);
    if (value === undefined) delete values[input.name];
    else values[input.name] = value;
  }
}

async function check() {
  const answer = await postJson(`${base}/form/check`, { values });
  if (!answer.ok) { say(document.getElementById("page-error"), answer.error.message); return; }
  const fieldsChanged = answer.body.fields.map((f) => f.key).join() !== form.fields.map((f) => f.key).join();
  const factsBefore = form.facts;
  form = { ...answer.body, facts: factsBefore };
  if (fieldsChanged) renderFields();
  renderItems();
  renderErrors();
}

function saveDraft() {
  saving = saving.then(async () => {
    const answer = await requestJson("PUT", `${base}/draft`, { values, revision });
    const status = document.getElementById("draft-status");
    if (answer.ok) {
      revision = answer.body.revision;
      say(status, `草稿已保存（${new Date().toLocaleTimeString("zh-CN", { hour12: false })}）`);
    } else if (answer.error.code === "conflict") {
      say(status, "草稿已在其他窗口更新：请刷新页面后继续填写，以免覆盖");
      status.classList.add("warn");
    } else say(status, `草稿未能保存：${answer.error.message}`);
  });
}

function changed() {
  collect();
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 250);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveDraft, 1200);
}

document.getElementById("kaigong-form").addEventListener("input", (event) => {
  if (event.target.id !== "key-file") changed();
});
document.getElementById("kaigong-form").addEventListener("change", (event) => {
  if (event.target.id !== "key-file") changed();
});

document.getElementById("key-file").addEventListener("change", async (event) => {
  const status = document.getElementById("key-status");
  key = null;
  const file = event.target.files[0];
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    if (!/^[0-9a-f]{64}$/i.test(data.private_key_hex ?? "") || !data.certificate_id) throw new Error("bad key file");
    key = data;
    status.textContent = `已载入证书（序列号 ${data.serial ?? "未知"}）`;
  } catch {
    status.textContent = "无法读取密钥文件：请选择本单位的 .sm2.json 证书密钥文件";
  }
});

document.getElementById("kaigong-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("submit-error");
  const problems = document.getElementById("submit-problems");
  say(error, ""); problems.hidden = true;
  collect();
  await check();
  if (form.errors.length) { say(error, `表单还有 ${form.errors.length} 处需要修改，请先改正（已在各字段下标出）`); return; }
  if (!key) { say(error, "请先选择本单位的证书密钥文件"); return; }
  const payload = {
    project_id: projectId, bundle: form.bundle, catalogue_version_id: form.catalogue_version_id,
    items: form.items.map((i) => i.code).sort(), values, materials: {},
  };
  const text = canonical(payload);
  const body = { signed: utf8Base64(text), signature: signText(text, key.private_key_hex), certificate_id: key.certificate_id };
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const response = await fetch(`${base}/applications`, {
    method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf, "idempotency-key": idempotencyKey },
    body: JSON.stringify(body),
  }).catch(() => null);
  if (!response) { say(error, "网络连接失败，请重试（重试不会重复提交）"); return; }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    say(error, answer?.error?.message ?? `提交失败（${response.status}）`);
    const fields = answer?.error?.fields ?? [];
    problems.replaceChildren(...fields.map((f) => el("li", `${f.field}：${f.message}`)));
    problems.hidden = !fields.length;
    return;
  }
  sessionStorage.removeItem(`kaigong-submit-${projectId}`);
  location.assign(`/projects/${projectId}/kaigong`);
});

const loaded = await getJson(`${base}/form`);
if (!loaded.ok) say(document.getElementById("page-error"), loaded.error.message);
else {
  form = loaded.body;
  values = { ...loaded.body.values };
  revision = loaded.body.draft_revision;
  prefilled = new Set(loaded.body.prefilled);
  renderFacts();
  renderFields();
  renderItems();
  renderErrors();
}
