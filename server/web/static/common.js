// Shared page helpers: JSON requests with the platform's error format (and the page's CSRF token),
// messages in a page's status and alert boxes, form errors named by their labels, elements built
// without HTML parsing, times shown in Asia/Shanghai, and logout.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function requestJson(method, url, body) {
  const headers = { "x-csrf-token": csrfToken };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { ok: false, error: { code: "network", message: "网络连接失败，请检查网络后重试" } };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { ok: true, body: data };
  return { ok: false, error: data?.error ?? { code: "http_error", message: `请求失败（${response.status}）` } };
}

export const postJson = (url, body) => requestJson("POST", url, body);
export const getJson = (url) => requestJson("GET", url);

// Show `text` in a status or alert box; an empty text hides it.
export function say(box, text) {
  box.textContent = text ?? "";
  box.hidden = !text;
}

// Show an API error under a form, naming the fields the server rejected by their Chinese labels and
// marking them for assistive tech.
export function showFormError(form, box, error) {
  const names = new Set((error.fields ?? []).map((f) => f.field));
  const labels = [];
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (!names.has(input.name)) { input.removeAttribute("aria-invalid"); continue; }
    input.setAttribute("aria-invalid", "true");
    labels.push(input.labels[0].firstChild.textContent.trim());
  }
  say(box, labels.length ? `${error.message}：${labels.join("、")}` : error.message);
}

// An element with text, built without HTML parsing.
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// A timestamp from the API (UTC) as shown to users: Shanghai time.
export const localTime = (iso) => new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });

// A form's fields as an object, without the empty optional ones.
export function formFields(form) {
  return Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ""));
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await postJson("/api/v1/logout", {});
  location.assign("/login");
});
