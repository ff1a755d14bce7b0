"""The bid session actor (评标会议): one per session; owns its experts' presence, annotations and reminders."""
