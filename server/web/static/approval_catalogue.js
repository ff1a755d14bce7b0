// The item-catalogue administration page: start a new draft from the latest published version, save
// the draft's JSON (sent with the revision it was based on; the server checks it whole and names each
// problem by its path in the content, e.g. items.2.predecessors, listed here), and publish the draft
// after confirmation.
import { el, postJson, requestJson, say } from "/static/common.js";
import { wirePublishDialog } from "/static/publish_dialog.js";

const API = "/api/v1/admin/approval/catalogue";
const pageError = document.getElementById("page-error");

document.getElementById("new-draft")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  const result = await postJson(`${API}/drafts`, {});
  if (result.ok) {
    location.assign(`?version=${result.body.id}`);
  } else {
    button.disabled = false;
    say(pageError, result.error.message);
  }
});

const version = document.getElementById("version");
const saveForm = document.getElementById("save-form");
const problems = document.getElementById("problems");
let dirty = false;

function showProblems(message, items) {
  say(pageError, "");
  const entries = [message, ...items].map((text) => el("li", text));
  problems.replaceChildren(...entries);
  problems.hidden = false;
}

function clearProblems() {
  saveForm.elements.content.removeAttribute("aria-invalid");
  problems.replaceChildren();
  problems.hidden = true;
}

if (version && saveForm) {
  const textarea = saveForm.elements.content;
  textarea.addEventListener("input", () => { dirty = true; });

  saveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems();
    let content;
    try {
      content = JSON.parse(textarea.value);
    } catch (error) {
      textarea.setAttribute("aria-invalid", "true");
      showProblems("目录内容不是合法的 JSON，未保存", [String(error.message)]);
      return;
    }
    if (content === null || typeof content !== "object" || Array.isArray(content)) {
      textarea.setAttribute("aria-invalid", "true");
      showProblems("目录内容应为 JSON 对象，未保存", []);
      return;
    }
    const button = document.getElementById("save");
    button.disabled = true;
    const body = {
      content,
      summary: saveForm.elements.summary.value.trim(),
      expected_revision: Number(version.dataset.revision),
    };
    const result = await requestJson("PUT", `${API}/versions/${version.dataset.versionId}`, body);
    button.disabled = false;
    if (result.ok) {
      dirty = false;
      location.assign(`?version=${version.dataset.versionId}`);
      return;
    }
    const fields = result.error.fields ?? [];
    if (fields.length) textarea.setAttribute("aria-invalid", "true");
    showProblems(result.error.message, fields.map((f) => `${f.field}：${f.message}`));
  });

  wirePublishDialog({
    isDirty: () => dirty,
    url: `${API}/versions/${version.dataset.versionId}/publish`,
    body: (form) => ({ expected_revision: Number(version.dataset.revision), summary: form.elements.summary.value.trim() || null }),
    published: () => {
      dirty = false;
      location.assign(`?version=${version.dataset.versionId}`);
    },
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });
}
