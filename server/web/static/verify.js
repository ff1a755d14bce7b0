// The public verification page: checks a file the visitor holds against the registered original by
// sending it to the verification API (its SM3 is compared, the file is not kept).
import { say } from "./common.js";

const section = document.getElementById("verify");
const form = document.getElementById("file-check");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("file-result");
  const error = document.getElementById("file-error");
  say(result, ""); say(error, "");
  const file = form.elements.file.files[0];
  if (!file) { say(error, "请选择文件"); return; }
  let response;
  try {
    response = await fetch(`/api/v1/verify/${encodeURIComponent(section.dataset.id)}/file`, {
      method: "POST", body: file, headers: {
        "content-type": "application/octet-stream",
        "x-csrf-token": document.querySelector('meta[name="csrf-token"]')?.content ?? "",
      },
    });
  } catch {
    say(error, "网络连接失败，请检查网络后重试");
    return;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) { say(error, body?.error?.message ?? `核对失败（${response.status}）`); return; }
  result.classList.toggle("warn", body.file_matches !== true);
  say(result, body.file_matches ? `文件与登记的原件一致。${body.message}` : body.message);
});
