// Shared page helpers: JSON requests with the platform's error format, and logout.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken },
      body: JSON.stringify(body ?? {}),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, error: { code: "network", message: "网络连接失败，请检查网络后重试" } };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { ok: true, body: data };
  return { ok: false, error: data?.error ?? { code: "http_error", message: `请求失败（${response.status}）` } };
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await postJson("/api/v1/logout", {});
  location.assign("/login");
});
