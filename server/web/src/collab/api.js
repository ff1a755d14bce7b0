// JSON requests with the platform's error format and the page's CSRF token (as static/common.js).
const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function requestJson(method, url, body) {
  const headers = { "x-csrf-token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: "网络连接失败，请检查网络后重试" } };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { ok: true, status: response.status, body: data };
  const error = data?.error ?? { code: "http_error", message: `请求失败（${response.status}）` };
  return { ok: false, status: response.status, error };
}

export const getJson = (url) => requestJson("GET", url);
export const postJson = (url, body) => requestJson("POST", url, body);

// A DOM element: h("button", { type: "button", class: "secondary" }, "保存").
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function say(box, text) {
  box.textContent = text ?? "";
  box.hidden = !text;
}

export function localTime(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso ?? "";
  const parts = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  }).formatToParts(at);
  const get = (type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}
