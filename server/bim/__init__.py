"""BIM checking on the server side: the rule library (规则库: rule sets whose rules, parameters and IDS
administrators edit with history; published versions immutable and numbered, one pinned to each bid
session, so changing a rule never silently alters an evaluation under way) and the model checks run
under a pinned version.

May call: `bim` (the rule registry, the IDS engine, the pipeline), audit, files, and
`server.bids.access` (who may see a bid session).
"""
