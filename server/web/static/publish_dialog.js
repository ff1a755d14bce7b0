// The confirm-and-publish dialog of the administrators' draft editors (BIM rule sets, the 开工一件事 item
// catalogue): warns of unsaved edits, posts the publication with the draft's revision, shows the server's
// refusal, and reloads the page on the published version.
import { postJson, say } from "/static/common.js";

// `isDirty()`: unsaved edits in the editor; `url`: the publish endpoint; `body(form)`: what to post;
// `published()`: called once published (the editor clears its dirty flag and moves on).
export function wirePublishDialog({ isDirty, url, body, published }) {
  const dialog = document.getElementById("publish-dialog");
  const publishForm = document.getElementById("publish-form");
  const publishError = document.getElementById("publish-error");
  document.getElementById("publish").addEventListener("click", () => {
    say(publishError, "");
    document.getElementById("publish-dirty").hidden = !isDirty();
    dialog.showModal();
  });
  publishForm.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "confirm") return; // 取消: the dialog closes itself
    event.preventDefault();
    const confirm = document.getElementById("confirm-publish");
    confirm.disabled = true;
    const result = await postJson(url, body(publishForm));
    confirm.disabled = false;
    if (result.ok) {
      published();
      return;
    }
    const fields = result.error.fields ?? [];
    say(publishError, [result.error.message, ...fields.map((f) => `${f.field}：${f.message}`)].join("；"));
  });
}
