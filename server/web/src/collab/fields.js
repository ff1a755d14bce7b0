// A "fields" section: labelled inputs bound to the section's Y.Map (field key -> value).
import { h } from "./api.js";
import { fieldLabel, inputFor, readInput, writeInput } from "./values.js";

export const LOCAL = Symbol("local input"); // origin of transactions made by this page's inputs

export function fieldBox(field, id, input) {
  return h("div", { class: "doc-field", dataset: { key: field.key } },
    h("label", { for: id }, fieldLabel(field), field.required ? h("span", { class: "required", title: "必填" }, " *") : null),
    input,
    field.help ? h("small", { class: "hint" }, field.help) : null,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }),
  );
}

// Keep one input and one Y.Map key in step, both ways.
export function bindInput(ydoc, ymap, field, input) {
  const push = () => {
    const value = readInput(field, input);
    if (value === ymap.get(field.key) && (value !== undefined || !ymap.has(field.key))) return;
    ydoc.transact(() => {
      if (value === undefined) ymap.delete(field.key);
      else ymap.set(field.key, value);
    }, LOCAL);
  };
  input.addEventListener("input", push);
  input.addEventListener("change", push);
  writeInput(input, ymap.get(field.key));
}

export function fieldsSection(section, { ydoc, editable }) {
  const ymap = ydoc.getMap(section.key);
  const inputs = new Map();
  const boxes = new Map();
  const grid = h("div", { class: "doc-fields" });
  for (const field of section.fields ?? []) {
    const id = `f-${section.key}-${field.key}`;
    const input = inputFor(field, id);
    input.disabled = !editable;
    if (field.required) input.required = true;
    const box = fieldBox(field, id, input);
    inputs.set(field.key, input);
    boxes.set(field.key, box);
    grid.append(box);
    bindInput(ydoc, ymap, field, input);
  }
  ymap.observe((event) => {
    if (event.transaction.origin === LOCAL) return;
    for (const key of event.keysChanged) {
      const input = inputs.get(key);
      if (input) writeInput(input, ymap.get(key));
    }
  });
  return {
    body: grid,
    // "height" -> the field's box (for a validation error), or null
    locate: (rest) => {
      const key = rest.replace(/^\./, "");
      return boxes.get(key) ?? null;
    },
  };
}
