// 版本: named versions of the document. Saving one and restoring one are the server's; a restore is
// a new edit, which every connected editor (this one too) receives over the websocket.
import { getJson, h, localTime, postJson, say } from "./api.js";

export const byWhom = (v) => v.created_by_name ?? v.created_by_login ?? "";

export function versionsPanel({ docId, canEdit, panel }) {
  const list = panel.querySelector("#versions");
  const status = panel.querySelector("#versions-status");
  const form = panel.querySelector("#save-version");
  form.hidden = !canEdit;

  const show = (text, kind = "notice") => {
    status.className = kind;
    say(status, text);
  };

  const load = async () => {
    const result = await getJson(`/api/v1/documents/${docId}/versions`);
    if (!result.ok) return show(result.error.message, "error");
    const items = result.body.items ?? [];
    if (!items.length) {
      list.replaceChildren(h("li", { class: "hint" }, "尚未保存版本。"));
      return;
    }
    list.replaceChildren(...items.map((v) => {
      const restore = canEdit
        ? h("button", { type: "button", class: "secondary small", "data-action": "restore" }, "恢复")
        : null;
      restore?.addEventListener("click", async () => {
        if (!confirm(`恢复到版本“${v.name}”？当前内容将被该版本的内容替换（此操作本身也可再恢复）。`)) return;
        restore.disabled = true;
        const done = await postJson(`/api/v1/documents/${docId}/versions/${v.id}/restore`, {});
        restore.disabled = false;
        if (!done.ok) return show(done.error.message, "error");
        show(`已恢复到版本“${v.name}”。`);
        load();
      });
      return h("li", { dataset: { versionId: v.id } },
        h("div", { class: "version-name" }, v.name),
        h("div", { class: "hint" }, `${localTime(v.created_at)} · ${byWhom(v)}`, v.submitted ? h("span", { class: "badge" }, "已提交") : null),
        h("div", { class: "version-actions" },
          h("a", { href: `/documents/${docId}/versions/${v.id}` }, "查看"), restore),
      );
    }));
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input[name=name]");
    const name = input.value.trim();
    if (!name) {
      input.setAttribute("aria-invalid", "true");
      return show("请填写版本名称", "error");
    }
    input.removeAttribute("aria-invalid");
    const button = form.querySelector("button");
    button.disabled = true;
    const result = await postJson(`/api/v1/documents/${docId}/versions`, { name, submit: false });
    button.disabled = false;
    if (!result.ok) return show(result.error.message, "error");
    input.value = "";
    show(`已保存版本“${name}”。`);
    load();
  });
  panel.querySelector("#reload-versions")?.addEventListener("click", load);
  load();
}
