// The ProseMirror schema of every rich-text section (the contract's list): paragraphs, headings 1–3,
// bullet and ordered lists, blockquotes, hard breaks; marks strong, em and underline. The names are
// prosemirror-schema-basic's, so the server reads the same node names out of the Yjs XML.
import { Schema } from "prosemirror-model";
import { nodes as basicNodes, marks as basicMarks } from "prosemirror-schema-basic";
import { addListNodes } from "prosemirror-schema-list";

const heading = {
  attrs: { level: { default: 1, validate: "number" } },
  content: "inline*",
  group: "block",
  defining: true,
  parseDOM: [1, 2, 3].map((level) => ({ tag: `h${level}`, attrs: { level } })),
  toDOM: (node) => [`h${Math.min(Math.max(node.attrs.level, 1), 3)}`, 0],
};

const underline = {
  parseDOM: [{ tag: "u" }, { style: "text-decoration=underline" }],
  toDOM: () => ["u", 0],
};

const { doc, paragraph, blockquote, text, hard_break } = basicNodes;
const base = new Schema({
  nodes: { doc, paragraph, blockquote, heading, text, hard_break },
  marks: { strong: basicMarks.strong, em: basicMarks.em, underline },
});

export const schema = new Schema({
  nodes: addListNodes(base.spec.nodes, "paragraph block*", "block"),
  marks: base.spec.marks,
});
