// The project's basic information (用地、规划、施工许可): the shipped schema rendered as a form, saved with its
// revision; errors from the server's rules are shown under their fields.
import { el, getJson, requestJson, say } from "./common.js";

const page = document.getElementById("project-data");
const url = `/api/v1/projects/${page.dataset.projectId}/data`;
const mayEdit = page.dataset.mayEdit === "true";
const form = document.getElementById("data-form");
let revision = 0;

function input(field, value) {
  let node;
  if (field.type === "select") {
    node = el("select", null, { name: field.key });
    node.append(el("option", "请选择", { value: "" }), ...field.options.map((o) => el("option", o, { value: o })));
  } else {
    const type = { number: "number", integer: "number", date: "date" }[field.type] ?? "text";
    node = el("input", null, { name: field.key, type });
    if (field.type === "number") node.step = "any";
    if (field.max_length) node.maxLength = field.max_length;
  }
  if (value !== null && value !== undefined) node.value = String(value);
  node.dataset.type = field.type;
  node.disabled = !mayEdit;
  return node;
}

function render(data) {
  revision = data.revision;
  form.replaceChildren(...data.form.sections.filter((s) => s.kind === "fields").map((section) => {
    const card = el("section", null, { class: "card", "data-section": section.key });
    card.append(el("h2", section.title));
    for (const field of section.fields) {
      const box = el("div", null, { class: "field", "data-key": `${section.key}.${field.key}` });
      const label = el("label", field.label + (field.unit ? `（${field.unit}）` : ""));
      label.append(input(field, data.sections[section.key]?.[field.key]));
      box.append(label, el("p", "", { class: "field-error", role: "alert" }));
      card.append(box);
    }
    return card;
  }));
  if (mayEdit) form.append(el("button", "保存", { type: "submit" }));
}

function collect() {
  const sections = {};
  for (const card of form.querySelectorAll("[data-section]")) {
    sections[card.dataset.section] = {};
    for (const node of card.querySelectorAll("[name]")) {
      const text = node.value.trim();
      if (text === "") continue;
      sections[card.dataset.section][node.name] = ["number", "integer"].includes(node.dataset.type) ? Number(text) : text;
    }
  }
  return sections;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("data-status");
  const error = document.getElementById("data-error");
  say(status, ""); say(error, "");
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  const answer = await requestJson("PUT", url, { sections: collect(), revision });
  if (!answer.ok) {
    say(error, answer.error.message);
    for (const f of answer.error.fields ?? []) {
      const box = form.querySelector(`[data-key="${f.field}"] .field-error`);
      if (box) box.textContent = f.message;
    }
    return;
  }
  render(answer.body);
  say(status, `已保存（第 ${answer.body.revision} 版）`);
});

const loaded = await getJson(url);
if (loaded.ok) render(loaded.body);
else say(document.getElementById("data-error"), loaded.error.message);
