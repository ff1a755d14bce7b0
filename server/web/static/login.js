// The login page: password login and SMS-code login in two tabs. After login go where the visitor was
// heading, or to the account page when the password has expired and must be changed first.
import { postJson, say } from "/static/common.js";
import { devInbox, plainPhone, startCountdown } from "/static/sms.js";

const next = document.getElementById("login").dataset.next;
const inbox = devInbox();

function enter(session) {
  location.assign(session.password_expired ? "/account?expired=1" : next);
}

// Tabs (WAI-ARIA tabs pattern): click or arrow keys switch; the hidden panel leaves the tab order.
const tabs = [...document.querySelectorAll('[role="tab"]')];
function select(tab) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
  tab.focus();
}
for (const tab of tabs) {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step) select(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]);
  });
}

const passwordForm = document.getElementById("password-login");
const passwordError = document.getElementById("password-error");
passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { login, password } = Object.fromEntries(new FormData(passwordForm));
  if (!login || !password) { say(passwordError, "请输入登录名和密码"); return; }
  const submit = passwordForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const result = await postJson("/api/v1/login", { login, password });
  submit.disabled = false;
  if (result.ok) { enter(result.body); return; }
  say(passwordError, result.error.message);
  passwordForm.elements.password.value = "";
  passwordForm.elements.password.focus();
});

const smsForm = document.getElementById("sms-login");
const smsError = document.getElementById("sms-error");
const smsStatus = document.getElementById("sms-status");
const send = document.getElementById("sms-send");

send.addEventListener("click", async () => {
  const phone = plainPhone(smsForm.elements.phone.value);
  say(smsError, "");
  if (!phone) { say(smsError, "请输入手机号"); return; }
  send.disabled = true;
  const result = await postJson("/api/v1/login/sms/code", { phone });
  if (!result.ok) {
    say(smsError, result.error.message);
    if (result.error.retry_after_s) startCountdown(send, result.error.retry_after_s);
    else send.disabled = false;
    return;
  }
  startCountdown(send, result.body.resend_in_s);
  smsStatus.textContent = `如该手机号已绑定账号，验证码已发送，${Math.round(result.body.expires_in_s / 60)} 分钟内有效。`;
  smsForm.elements.code.focus();
  await inbox.show(phone);
});

smsForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const phone = plainPhone(smsForm.elements.phone.value);
  const code = smsForm.elements.code.value.trim();
  if (!phone || !code) { say(smsError, "请输入手机号和短信验证码"); return; }
  const result = await postJson("/api/v1/login/sms", { phone, code });
  if (result.ok) { enter(result.body); return; }
  say(smsError, result.error.message);
});
