// Signing the one form of 开工一件事 in the browser with the enterprise's SM2 key (GM/T 0009: SM3 with Z of
// the default ID, DER signature), as the CA's UKey would; the server verifies with the certificate's
// public key. The key never leaves the page.
import { sm2 } from "sm-crypto";

function hexToBase64(hex) {
  let binary = "";
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(binary);
}

// JSON with keys sorted at every level and no spaces: the bytes that are signed and sent.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function utf8Base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

export function signText(text, privateKeyHex) {
  return hexToBase64(sm2.doSignature(text, privateKeyHex, { hash: true, der: true }));
}

export function publicKeyOf(privateKeyHex) {
  return sm2.getPublicKeyFromPrivateKey(privateKeyHex);
}
