// 校验: the server's validation of the document, shown next to the fields it names and as a list.
import { getJson, h, say } from "./api.js";

// "units[2].area" -> { key: "units", rest: "[2].area" }
const splitPath = (path) => {
  const m = /^([A-Za-z_][\w-]*)(.*)$/.exec(path ?? "");
  return m ? { key: m[1], rest: m[2] } : { key: "", rest: "" };
};

export function pathLabel(path, form) {
  const { key, rest } = splitPath(path);
  const section = form.sections.find((s) => s.key === key);
  if (!section) return path;
  const parts = [section.title];
  const row = /^\[(\d+)\]/.exec(rest);
  if (row) parts.push(`第 ${Number(row[1]) + 1} 行`);
  const fieldKey = /\.(\w+)$/.exec(rest)?.[1];
  const field = fieldKey && (section.fields ?? section.columns ?? []).find((f) => f.key === fieldKey);
  if (field) parts.push(field.label);
  else if (fieldKey) parts.push(fieldKey);
  return parts.join(" · ");
}

export function validationPanel({ docId, form, sections, panel }) {
  const button = panel.querySelector("#validate");
  const status = panel.querySelector("#validation-status");
  const list = panel.querySelector("#validation-errors");
  let marked = [];

  const clear = () => {
    for (const box of marked) {
      box.classList.remove("invalid");
      box.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      const note = box.querySelector(":scope > .field-error, :scope > .doc-section-error");
      if (note) say(note, "");
    }
    marked = [];
    list.replaceChildren();
  };

  const mark = (error) => {
    const { key, rest } = splitPath(error.path);
    const section = sections.get(key);
    if (!section) return null;
    const box = (rest && section.locate(rest)) || section.element;
    box.classList.add("invalid");
    if (box.matches(".doc-field, td")) box.querySelectorAll("input, select").forEach((el) => el.setAttribute("aria-invalid", "true"));
    const note = box.querySelector(":scope > .field-error, :scope > .doc-section-error");
    if (note) say(note, note.hidden ? error.message : `${note.textContent}；${error.message}`);
    marked.push(box);
    return box;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    say(status, "正在校验…");
    const result = await getJson(`/api/v1/documents/${docId}/validation`);
    button.disabled = false;
    clear();
    if (!result.ok) {
      status.className = "error";
      say(status, result.error.message);
      return;
    }
    const errors = result.body.errors ?? [];
    status.className = result.body.valid ? "notice" : "notice warn";
    say(status, result.body.valid ? "校验通过，未发现问题。" : `发现 ${errors.length} 个问题：`);
    for (const error of errors) {
      const box = mark(error);
      const item = h("li", { dataset: { path: error.path ?? "", code: error.code ?? "" } },
        h("strong", {}, pathLabel(error.path, form)), "：", error.message);
      if (box) {
        item.classList.add("jump");
        item.tabIndex = 0;
        const go = () => {
          box.scrollIntoView({ block: "center" });
          box.querySelector("input, select, [contenteditable]")?.focus();
        };
        item.addEventListener("click", go);
        item.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
      }
      list.append(item);
    }
  });
}
