"""Collaborative documents over HTTP and websockets: thin routes onto `collab` and the document actor."""
