// The rule-library pages: create a rule set; on a rule set's page, start a new draft, save the draft
// (content gathered from the editor, sent with the revision it was based on) and publish it after
// confirmation. Problems the server names (fields such as content.rules.PJS003.params) are marked
// on their controls and listed.
import { formFields, postJson, requestJson, say, showFormError } from "/static/common.js";
import { wirePublishDialog } from "/static/publish_dialog.js";

const MB = 1024 * 1024;

// ---- the list page -------------------------------------------------------------------------
const createForm = document.getElementById("create-rule-set");
createForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = document.getElementById("create-error");
  const result = await postJson("/api/v1/bim/rule-sets", formFields(createForm));
  if (result.ok) {
    location.assign(`/admin/bim/rule-sets/${result.body.id}`);
  } else {
    showFormError(createForm, errorBox, result.error);
  }
});

// ---- a rule set's page ---------------------------------------------------------------------
const pageError = document.getElementById("page-error");

document.getElementById("new-draft")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  const result = await postJson(`/api/v1/bim/rule-sets/${button.dataset.ruleSetId}/drafts`, {});
  if (result.ok) {
    location.assign(`?version=${result.body.id}`);
  } else {
    button.disabled = false;
    say(pageError, result.error.message);
  }
});

const version = document.getElementById("version");
const editor = document.getElementById("editor");
const saveForm = document.getElementById("save-form");
const problems = document.getElementById("problems");
let dirty = false;

function clearMarks() {
  for (const marked of editor.querySelectorAll('[aria-invalid="true"]')) marked.removeAttribute("aria-invalid");
  problems.replaceChildren();
  problems.hidden = true;
}

function showProblems(message, items) {
  say(pageError, "");
  const entries = [message, ...items].map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  });
  problems.replaceChildren(...entries);
  problems.hidden = false;
}

// The control that shows `field` (a server field path), or the nearest one of its parents.
function controlOf(field) {
  let path = field;
  while (path) {
    const found = editor.querySelector(`[data-field="${CSS.escape(path)}"]`) ?? saveForm.querySelector(`[name="${CSS.escape(path)}"]`);
    if (found) return found;
    path = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
  }
  return null;
}

// The editor's content as the API takes it; throws a list of problems found before sending.
function gatherContent() {
  const found = [];
  const limits = document.getElementById("limits");
  const timeouts = {};
  for (const input of limits.querySelectorAll('input[name="timeout"]')) {
    timeouts[input.dataset.stage] = Number(input.value);
  }
  const rules = {};
  for (const row of editor.querySelectorAll('#rules tr[data-registered="true"]')) {
    const code = row.dataset.code;
    const textarea = row.querySelector(".rule-params");
    let params;
    try {
      params = JSON.parse(textarea.value.trim() || "{}");
    } catch {
      params = null;
    }
    if (params === null || typeof params !== "object" || Array.isArray(params)) {
      textarea.setAttribute("aria-invalid", "true");
      found.push(`规则 ${code} 的参数须为 JSON 对象，如 {"名称": 值}`);
      continue;
    }
    rules[code] = { enabled: row.querySelector(".rule-enabled").checked, params };
  }
  const idsForm = document.getElementById("ids-form");
  const xml = idsForm.elements.ids_xml.value.trim();
  const idsName = idsForm.elements.ids_name.value.trim();
  if (found.length) throw found;
  return {
    allowed_schemas: [...editor.querySelectorAll('input[name="allowed_schemas"]:checked')].map((box) => box.value),
    max_model_bytes: Math.round(Number(limits.elements.max_model_mb.value) * MB),
    outcome_cap: Number(limits.elements.outcome_cap.value),
    stage_timeouts_s: timeouts,
    rules,
    ids: xml ? { name: idsName || "IDS", xml } : null,
  };
}

if (version && saveForm) {
  editor.addEventListener("input", () => { dirty = true; });
  editor.addEventListener("change", () => { dirty = true; });

  document.getElementById("ids-file")?.addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const idsForm = document.getElementById("ids-form");
    idsForm.elements.ids_xml.value = await file.text();
    if (!idsForm.elements.ids_name.value.trim()) idsForm.elements.ids_name.value = file.name;
    dirty = true;
  });

  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMarks();
    const summary = saveForm.elements.summary.value.trim();
    let content;
    try {
      content = gatherContent();
    } catch (found) {
      showProblems("规则集内容有误，未保存", found);
      return;
    }
    if (!summary) {
      saveForm.elements.summary.setAttribute("aria-invalid", "true");
      showProblems("请填写修改说明", []);
      return;
    }
    const button = document.getElementById("save");
    button.disabled = true;
    const body = { content, summary, expected_revision: Number(version.dataset.revision) };
    const result = await requestJson("PUT", `/api/v1/bim/rule-set-versions/${version.dataset.versionId}`, body);
    button.disabled = false;
    if (result.ok) {
      dirty = false;
      location.assign(`?version=${version.dataset.versionId}&saved=1`);
      return;
    }
    const fields = result.error.fields ?? [];
    for (const f of fields) controlOf(f.field)?.setAttribute("aria-invalid", "true");
    showProblems(result.error.message, fields.map((f) => `${f.field}：${f.message}`));
  });

  wirePublishDialog({
    isDirty: () => dirty,
    url: `/api/v1/bim/rule-set-versions/${version.dataset.versionId}/publish`,
    body: (form) => ({ expected_revision: Number(version.dataset.revision), note: form.elements.note.value.trim() }),
    published: () => {
      dirty = false;
      location.assign(`?version=${version.dataset.versionId}`);
    },
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });
}
