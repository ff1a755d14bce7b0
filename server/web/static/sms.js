// SMS-code helpers shared by the login and account pages: the resend countdown on a "get code" button,
// and the demo SMS inbox (only on pages of a server that runs the development SMS channel).
import { getJson } from "/static/common.js";

const TEMPLATE_TEXT = {
  SMS_LOGIN_CODE: (p) => `您的登录验证码为 ${p.code}，${p.minutes} 分钟内有效，请勿告诉他人。`,
  SMS_CHANGE_PHONE_CODE: (p) => `您正在更换绑定手机号，验证码为 ${p.code}，${p.minutes} 分钟内有效，请勿告诉他人。`,
};

// "+86 139-0000-0001" → "13900000001", as the server reads numbers.
export function plainPhone(value) {
  return value.replace(/[\s\-()（）]/g, "").replace(/^(\+86|0086)/, "");
}

// Disable `button` for `seconds`, showing the seconds left on it; then offer to send again.
export function startCountdown(button, seconds) {
  const original = button.dataset.label ?? button.textContent;
  button.dataset.label = original;
  let left = Math.max(0, Math.ceil(seconds));
  const render = () => {
    button.disabled = left > 0;
    button.textContent = left > 0 ? `重新获取（${left} 秒）` : "重新获取验证码";
  };
  render();
  const timer = setInterval(() => {
    left -= 1;
    render();
    if (left <= 0) clearInterval(timer);
  }, 1000);
}

// The demo inbox: `show(phone)` fetches the latest message "sent" to that phone and displays it.
export function devInbox() {
  const panel = document.getElementById("dev-inbox");
  if (!panel) return { show() {} };
  const box = document.getElementById("dev-inbox-message");
  const refresh = document.getElementById("dev-inbox-refresh");
  let phone = null;

  async function show(target) {
    phone = plainPhone(target);
    refresh.disabled = false;
    const result = await getJson(`/api/v1/dev/sms?phone=${encodeURIComponent(phone)}`);
    box.replaceChildren();
    if (!result.ok) { box.textContent = result.error.message; return; }
    const sms = result.body;
    const meta = document.createElement("p");
    meta.className = "hint";
    const time = new Date(sms.sent_at).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
    meta.textContent = `发往 ${sms.phone} · ${time}`;
    const text = document.createElement("p");
    const template = TEMPLATE_TEXT[sms.template];
    text.textContent = `【联审平台】${template ? template(sms.params) : sms.template}`;
    const code = document.createElement("p");
    code.className = "sms-code";
    code.append("验证码：");
    const strong = document.createElement("strong");
    strong.dataset.testid = "dev-sms-code";
    strong.textContent = sms.params.code ?? "";
    code.append(strong);
    box.append(meta, text, code);
  }

  refresh.addEventListener("click", () => { if (phone) show(phone); });
  return { show };
}
