"""The project actor: one per construction project; owns its live status and its event stream."""
