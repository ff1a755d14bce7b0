"""IDS 1.0 completeness checking: open and validate an IDS (`engine`), ifctester with our corrections
where it disagrees with the standard's test cases (`fixes`), the completeness report with its fill-in
list and rates (`report`), its JSON / XLSX / BCF exports (`export`), and the Shanghai bid data-item
list turned into an IDS (`seed`).

Must not: import the server's web layer, the database or the job queue; everything here is a pure
function of (IDS bytes, model, model digest), so a report reproduces byte for byte.
"""
