// A "richtext" section: a ProseMirror editor bound to `ydoc.getXmlFragment(key)` by y-prosemirror,
// with a small toolbar, Yjs undo/redo, and the cursors of the other editors of this section.
import { EditorState } from "prosemirror-state";
import { EditorView } from "prosemirror-view";
import { keymap } from "prosemirror-keymap";
import { baseKeymap, setBlockType, toggleMark } from "prosemirror-commands";
import { liftListItem, sinkListItem, splitListItem, wrapInList } from "prosemirror-schema-list";
import { redoCommand, undoCommand, yCursorPlugin, ySyncPlugin, yUndoPlugin } from "y-prosemirror";
import { h } from "./api.js";
import { colorClass } from "./presence.js";
import { schema } from "./schema.js";

// Several editors share one awareness, but y-prosemirror's cursor plugin reads and writes the field
// `cursor`. Each editor sees the awareness through this view, in which `cursor` is the section's own
// field (`cursor:<key>`), so a caret in one section never shows up in another.
function sectionAwareness(awareness, field) {
  const mapped = (state) => state && { ...state, cursor: state[field] ?? null };
  return {
    doc: awareness.doc,
    clientID: awareness.clientID,
    getStates: () => {
      const states = new Map();
      awareness.getStates().forEach((state, client) => states.set(client, mapped(state)));
      return states;
    },
    getLocalState: () => mapped(awareness.getLocalState()),
    setLocalStateField: (name, value) => awareness.setLocalStateField(name === "cursor" ? field : name, value),
    on: (name, f) => awareness.on(name, f),
    off: (name, f) => awareness.off(name, f),
  };
}

// The page's CSP allows no style attributes: colours are set through the CSSOM, and a selection
// (a decoration's attributes) is coloured by a class of the palette.
function cursorBuilder(user) {
  const name = h("span", { class: "remote-caret-name" }, user.name);
  name.style.backgroundColor = user.color;
  const caret = h("span", { class: "ProseMirror-yjs-cursor remote-caret", "aria-hidden": "true" }, "\u2060", name, "\u2060");
  caret.style.borderColor = user.color;
  return caret;
}

const selectionBuilder = (user) => ({ class: `remote-selection ${colorClass(user.color)}` });

const inList = (state) => {
  const { $from } = state.selection;
  for (let d = $from.depth; d > 0; d--) {
    const type = $from.node(d).type;
    if (type === schema.nodes.bullet_list || type === schema.nodes.ordered_list) return true;
  }
  return false;
};

const markActive = (state, type) => {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
};

const TOOLS = [
  { label: "加粗", title: "加粗（Ctrl+B）", run: toggleMark(schema.marks.strong), active: (s) => markActive(s, schema.marks.strong) },
  { label: "斜体", title: "斜体（Ctrl+I）", run: toggleMark(schema.marks.em), active: (s) => markActive(s, schema.marks.em) },
  {
    label: "标题", title: "标题 / 正文",
    run: (state, dispatch) => (state.selection.$from.parent.type === schema.nodes.heading
      ? setBlockType(schema.nodes.paragraph)(state, dispatch)
      : setBlockType(schema.nodes.heading, { level: 2 })(state, dispatch)),
    active: (s) => s.selection.$from.parent.type === schema.nodes.heading,
  },
  {
    label: "列表", title: "项目符号列表",
    run: (state, dispatch) => (inList(state)
      ? liftListItem(schema.nodes.list_item)(state, dispatch)
      : wrapInList(schema.nodes.bullet_list)(state, dispatch)),
    active: inList,
  },
];

export function richtextSection(section, { ydoc, awareness, editable }) {
  const fragment = ydoc.getXmlFragment(section.key);
  const plugins = [ySyncPlugin(fragment)];
  if (awareness) plugins.push(yCursorPlugin(sectionAwareness(awareness, `cursor:${section.key}`), { cursorBuilder, selectionBuilder }));
  if (editable) {
    plugins.push(
      yUndoPlugin(),
      keymap({
        "Mod-z": undoCommand, "Mod-y": redoCommand, "Mod-Shift-z": redoCommand,
        "Mod-b": toggleMark(schema.marks.strong), "Mod-i": toggleMark(schema.marks.em),
        "Mod-u": toggleMark(schema.marks.underline),
        Enter: splitListItem(schema.nodes.list_item),
        Tab: sinkListItem(schema.nodes.list_item), "Shift-Tab": liftListItem(schema.nodes.list_item),
      }),
      keymap(baseKeymap),
    );
  }
  const mount = h("div", { class: "doc-richtext-mount" });
  const buttons = TOOLS.map((tool) => {
    const button = h("button", { type: "button", class: "secondary tool", title: tool.title, "aria-pressed": "false" }, tool.label);
    button.disabled = !editable;
    button.addEventListener("mousedown", (e) => e.preventDefault()); // keep the editor's selection
    button.addEventListener("click", () => {
      tool.run(view.state, view.dispatch);
      view.focus();
    });
    return button;
  });
  const toolbar = h("div", { class: "doc-toolbar", role: "toolbar", "aria-label": `${section.title}格式` }, buttons);
  const refresh = (state) => TOOLS.forEach((tool, i) => buttons[i].setAttribute("aria-pressed", String(!!tool.active(state))));
  const view = new EditorView(mount, {
    state: EditorState.create({ schema, plugins }),
    editable: () => editable,
    attributes: { class: "doc-richtext", role: "textbox", "aria-multiline": "true", "aria-label": section.title, "data-section": section.key },
    dispatchTransaction(tr) {
      // `this` is the view (y-prosemirror dispatches while the view is still being constructed)
      const state = this.state.apply(tr);
      this.updateState(state);
      refresh(state);
    },
  });
  const body = h("div", { class: "doc-richtext-box" }, editable ? toolbar : null, mount);
  return { body, view, locate: () => mount };
}
