// The one form of 开工一件事: facts decide the applicable items, the merged fields are checked live (the
// server's rules, on every change), the draft is saved continuously with its revision, and the form is
// signed with the enterprise's SM2 key (sm-crypto) and submitted with an Idempotency-Key that survives a
// reload, so a double submission records one application. Materials (申报材料): each of the form's materials
// takes files (PUT of the raw file, checked by the server) or links a file the enterprise attached to one
// of its earlier projects; the signed payload names their SM3s by material code.
import { el, getJson, localTime, postJson, requestJson, say } from "./common.js";
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
let attached = []; // this project's material files: {id, code, file_name, size, sm3, source}
let earlier = []; // the enterprise's files of the same codes from its other projects
let materialCodes = null; // the material codes last rendered (re-rendered only when they change)

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
  const codes = form.materials.map((m) => `${m.code}:${m.required}:${m.items.join("+")}`).join();
  if (codes !== materialCodes) renderMaterials();
}

const sizeText = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);
const filesOf = (code) => attached.filter((f) => f.code === code);

function missingMaterials() {
  return form.materials.filter((m) => m.required && !filesOf(m.code).length);
}

function renderMaterials() {
  materialCodes = form.materials.map((m) => `${m.code}:${m.required}:${m.items.join("+")}`).join();
  const list = document.getElementById("materials");
  list.replaceChildren(...form.materials.map((m) => {
    const li = el("li", null, { "data-material": m.code });
    const title = el("p", m.name, { class: "material-name" });
    title.append(el("span", `（${itemNames(m.items)}）`, { class: "uses" }));
    if (m.required) title.append(el("span", " 必交", { class: "req" }));
    const files = el("ul", null, { class: "material-files", "data-testid": `files-${m.code}` });
    for (const file of filesOf(m.code)) {
      const row = el("li", `${file.file_name}（${sizeText(file.size)}${file.source === "reuse" ? "，沿用以前提交的材料" : ""}）`);
      const remove = el("button", "移除", { type: "button", class: "link", "aria-label": `移除 ${file.file_name}` });
      remove.addEventListener("click", () => removeFile(file));
      row.append(" ", remove);
      files.append(row);
    }
    const input = el("input", null, { type: "file", accept: ".pdf,.jpg,.jpeg,.png,.tif,.tiff", "data-material": m.code,
      id: `m-${m.code}`, "aria-label": `上传${m.name}` });
    input.addEventListener("change", () => { for (const file of input.files) uploadFile(m, file); input.value = ""; });
    const upload = el("label", "上传文件 ", { class: "material-upload", for: `m-${m.code}` });
    const status = el("span", "", { class: "upload-status", role: "status", id: `s-${m.code}` });
    li.append(title, files, upload, input, status);
    const mine = new Set(filesOf(m.code).map((f) => f.sm3));
    const offers = earlier.filter((f) => f.code === m.code && !mine.has(f.sm3));
    if (offers.length) {
      const box = el("div", null, { class: "earlier" });
      box.append(el("p", "使用以前提交的材料（无需重新上传）：", { class: "hint" }));
      for (const offer of offers) {
        const button = el("button", `使用以前提交的材料：${offer.file_name}`, { type: "button", class: "secondary" });
        button.title = `${offer.project_name}（${offer.project_code}），${localTime(offer.created_at)}`;
        button.addEventListener("click", () => reuseFile(m, offer));
        box.append(button, el("span", ` ${offer.project_name} · ${localTime(offer.created_at)}`, { class: "hint" }), el("br"));
      }
      li.append(box);
    }
    return li;
  }));
  if (!form.materials.length) list.replaceChildren(el("li", "填写项目情况后，这里列出各事项需要的材料"));
  const missing = missingMaterials();
  document.getElementById("materials-status").textContent = !form.materials.length ? ""
    : missing.length ? `还缺 ${missing.length} 份必交材料` : "必交材料已齐全";
}

async function loadMaterials() {
  const answer = await getJson(`${base}/materials`);
  if (!answer.ok) { say(document.getElementById("page-error"), answer.error.message); return; }
  attached = answer.body.materials;
  earlier = answer.body.earlier;
  renderMaterials();
}

async function uploadFile(material, file) {
  const status = document.getElementById(`s-${material.code}`);
  if (file.size > 50 * 1048576) { status.textContent = `${file.name} 超过 50 MB，不能上传`; return; }
  status.textContent = `正在上传 ${file.name}（${sizeText(file.size)}）…`;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const url = `${base}/materials/${encodeURIComponent(material.code)}?name=${encodeURIComponent(file.name)}`;
  const response = await fetch(url, {
    method: "PUT", credentials: "same-origin", body: file,
    headers: { "x-csrf-token": csrf, "content-type": "application/octet-stream" },
  }).catch(() => null);
  const answer = response ? await response.json().catch(() => null) : null;
  if (!response?.ok) {
    const text = answer?.error?.message ?? (response ? `上传失败（${response.status}）` : "网络连接失败，请重试");
    await loadMaterials();
    document.getElementById(`s-${material.code}`).textContent = `${file.name}：${text}`;
    return;
  }
  await loadMaterials();
  document.getElementById(`s-${material.code}`).textContent = `已上传 ${answer.file_name}`;
}

async function reuseFile(material, offer) {
  const answer = await postJson(`${base}/materials/${encodeURIComponent(material.code)}/reuse`, { material_id: offer.id });
  await loadMaterials();
  document.getElementById(`s-${material.code}`).textContent = answer.ok
    ? `已使用以前提交的 ${offer.file_name}` : answer.error.message;
}

async function removeFile(file) {
  const answer = await requestJson("DELETE", `${base}/materials/${file.id}`);
  await loadMaterials();
  const status = document.getElementById(`s-${file.code}`);
  if (status) status.textContent = answer.ok ? `已移除 ${file.file_name}` : answer.error.message;
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
  await loadMaterials();
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

const ownInput = (target) => target.id !== "key-file" && !target.dataset.material;
document.getElementById("kaigong-form").addEventListener("input", (event) => {
  if (ownInput(event.target)) changed();
});
document.getElementById("kaigong-form").addEventListener("change", (event) => {
  if (ownInput(event.target)) changed();
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
  const missing = missingMaterials();
  if (missing.length) { say(error, `还缺少必交的申报材料：${missing.map((m) => m.name).join("、")}`); return; }
  if (!key) { say(error, "请先选择本单位的证书密钥文件"); return; }
  const materials = {};
  for (const m of form.materials) {
    const digests = [...new Set(filesOf(m.code).map((f) => f.sm3))].sort();
    if (digests.length) materials[m.code] = digests;
  }
  const payload = {
    project_id: projectId, bundle: form.bundle, catalogue_version_id: form.catalogue_version_id,
    items: form.items.map((i) => i.code).sort(), values, materials,
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
  await loadMaterials();
}
