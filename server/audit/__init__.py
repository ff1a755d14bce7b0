"""The tamper-evident audit log: every login, permission change and business write appends an entry
to a hash chain (HMAC-SM3 over the previous entry's MAC and this entry), verified by
`tongban audit verify`, searchable by administrators and auditors.

May call: nothing of the other domains (they call `append` inside their own transactions).
"""
