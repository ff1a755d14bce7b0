// The account page: change the password (every session ends, so log in again), change the phone
// (password → code to the new number → confirm), and end every session.
import { postJson, say, showFormError } from "/static/common.js";
import { devInbox, plainPhone, startCountdown } from "/static/sms.js";

const inbox = devInbox();

const passwordForm = document.getElementById("change-password");
const passwordError = document.getElementById("password-error");
passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(passwordForm));
  if (!data.current_password || !data.new_password) { say(passwordError, "请输入当前密码和新密码"); return; }
  if (data.new_password !== data.confirm_password) { say(passwordError, "两次输入的新密码不一致"); return; }
  const result = await postJson("/api/v1/account/password", {
    current_password: data.current_password,
    new_password: data.new_password,
  });
  if (result.ok) { location.assign("/login?notice=password_changed"); return; }
  showFormError(passwordForm, passwordError, result.error);
});

const phoneForm = document.getElementById("change-phone");
const phoneError = document.getElementById("phone-error");
const phoneStatus = document.getElementById("phone-status");
const send = document.getElementById("phone-send");
const confirmButton = document.getElementById("phone-confirm");
let codeSentTo = null;

send.addEventListener("click", async () => {
  const newPhone = plainPhone(phoneForm.elements.new_phone.value);
  const password = phoneForm.elements.password.value;
  say(phoneError, "");
  if (!newPhone || !password) { say(phoneError, "请输入新手机号和当前密码"); return; }
  send.disabled = true;
  const result = await postJson("/api/v1/account/phone/code", { new_phone: newPhone, password });
  if (!result.ok) {
    showFormError(phoneForm, phoneError, result.error);
    if (result.error.retry_after_s) startCountdown(send, result.error.retry_after_s);
    else send.disabled = false;
    return;
  }
  codeSentTo = newPhone;
  startCountdown(send, result.body.resend_in_s);
  phoneForm.elements.password.value = "";
  phoneForm.elements.code.disabled = false;
  confirmButton.disabled = false;
  phoneStatus.textContent = `验证码已发送至新手机号，${Math.round(result.body.expires_in_s / 60)} 分钟内有效。`;
  phoneForm.elements.code.focus();
  await inbox.show(newPhone);
});

phoneForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = phoneForm.elements.code.value.trim();
  if (!codeSentTo) { say(phoneError, "请先获取验证码"); return; }
  if (!code) { say(phoneError, "请输入短信验证码"); return; }
  const result = await postJson("/api/v1/account/phone", { new_phone: codeSentTo, code });
  if (!result.ok) { say(phoneError, result.error.message); return; }
  const masked = `${codeSentTo.slice(0, 3)}****${codeSentTo.slice(-4)}`;
  document.getElementById("phone-current").textContent = masked;
  say(phoneError, "");
  phoneStatus.textContent = `手机号已更换为 ${masked}。`;
  phoneForm.reset();
  phoneForm.elements.code.disabled = true;
  confirmButton.disabled = true;
  codeSentTo = null;
});

const sessionsError = document.getElementById("sessions-error");
document.getElementById("logout-everywhere").addEventListener("click", async () => {
  const result = await postJson("/api/v1/logout/everywhere", {});
  if (result.ok) { location.assign("/login?notice=logged_out_everywhere"); return; }
  say(sessionsError, result.error.message);
});
