// Who is in the document: the local awareness state `user: {name, color}` (the colour follows from
// the name, so a person keeps theirs across visits) and the list of everyone connected.
import { h } from "./api.js";

export const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#e377c2", "#17becf",
  "#ff7f0e", "#8c564b", "#bcbd22", "#0b6e4f", "#c2185b", "#3949ab",
];

export function colorOf(name) {
  let hash = 0x811c9dc5; // FNV-1a over the UTF-16 units
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length];
}

export const colorClass = (color) => {
  const i = PALETTE.indexOf(String(color).toLowerCase());
  return i < 0 ? "user-color-x" : `user-color-${i}`;
};

export function showPresence(awareness, list) {
  const render = () => {
    const entries = [];
    awareness.getStates().forEach((state, client) => {
      if (state?.user?.name) entries.push({ client, user: state.user, self: client === awareness.clientID });
    });
    entries.sort((a, b) => (b.self - a.self) || a.user.name.localeCompare(b.user.name, "zh-CN") || a.client - b.client);
    list.replaceChildren(...entries.map(({ client, user, self }) => {
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = user.color;
      return h("li", { dataset: { clientId: client, self: self ? "true" : "false" } },
        swatch, h("span", { class: "name" }, user.name), self ? h("span", { class: "hint" }, "（我）") : null);
    }));
  };
  awareness.on("change", render);
  render();
}
