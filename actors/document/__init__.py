"""The document actor: one per collaborative CRDT document; owns its Yjs state and its journal."""
