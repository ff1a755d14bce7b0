// The project page's collaborative documents: create one from a form and open it.
import { postJson, formFields, showFormError } from "/static/common.js";

const form = document.getElementById("new-document");
const error = document.getElementById("document-error");
const projectId = document.getElementById("project")?.dataset.projectId;

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await postJson(`/api/v1/projects/${projectId}/documents`, formFields(form));
  if (answer.ok) location.assign(`/documents/${answer.body.id}`);
  else showFormError(form, error, answer.error);
});
