"""The actor runtime and the domain actors (project, bid session, document).

An actor owns one thing's live state, handles its messages one at a time, journals its events in
PostgreSQL before anyone sees them, and pushes them to its subscribers.
"""
