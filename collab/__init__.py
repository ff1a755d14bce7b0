"""CRDT documents: the Yjs sync protocol, their persistence, and forms on top of Y types (to come)."""
