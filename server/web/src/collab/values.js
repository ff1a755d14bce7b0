// Field values between an <input> and the Yjs map, as the contract says: text, select and date are
// strings, number and integer JS numbers (what is not a number stays the raw string, for the server's
// validation to report), boolean a bool; an empty field is a deleted key.
import { h } from "./api.js";

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function inputFor(field, id) {
  const common = { id, name: field.key, "data-key": field.key, "aria-describedby": `${id}-error` };
  if (field.type === "select") {
    const options = (field.options ?? []).map((o) => h("option", { value: o }, o));
    return h("select", common, h("option", { value: "" }, "请选择"), options);
  }
  if (field.type === "boolean" || field.type === "checkbox") return h("input", { ...common, type: "checkbox" });
  if (field.type === "date") return h("input", { ...common, type: "date" });
  if (field.type === "number" || field.type === "integer") {
    const mode = field.type === "integer" ? "numeric" : "decimal";
    return h("input", { ...common, type: "text", inputmode: mode, autocomplete: "off" });
  }
  return h("input", {
    ...common, type: "text", autocomplete: "off",
    maxlength: field.max_length ?? false,
  });
}

// What the input holds, for the map: undefined means "delete the key".
export function readInput(field, input) {
  if (input.type === "checkbox") return input.checked;
  const raw = input.value;
  if (field.type === "number" || field.type === "integer") {
    const trimmed = raw.trim();
    if (trimmed === "") return undefined;
    return NUMBER.test(trimmed) ? Number(trimmed) : raw;
  }
  return raw === "" ? undefined : raw;
}

// Show a value from the map in the input. A focused text input keeps its caret where the user had
// it, shifted by what the remote edit inserted or removed before it.
export function writeInput(input, value) {
  if (input.type === "checkbox") {
    input.checked = value === true;
    return;
  }
  const text = value == null ? "" : String(value);
  if (input.value === text) return;
  const focused = document.activeElement === input && typeof input.selectionStart === "number";
  if (!focused || input.tagName === "SELECT") {
    input.value = text;
    return;
  }
  const old = input.value;
  const start = input.selectionStart, end = input.selectionEnd;
  let prefix = 0;
  while (prefix < old.length && prefix < text.length && old[prefix] === text[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < old.length - prefix && suffix < text.length - prefix &&
    old[old.length - 1 - suffix] === text[text.length - 1 - suffix]
  ) suffix++;
  const shift = (pos) => (pos <= prefix ? pos : Math.max(prefix, pos + text.length - old.length));
  input.value = text;
  try {
    input.setSelectionRange(shift(start), shift(end));
  } catch {
    // date inputs have no text selection
  }
}

export function fieldLabel(field) {
  return field.unit ? `${field.label}（${field.unit}）` : field.label;
}
