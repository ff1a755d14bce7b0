"""Bid evaluation sessions (评标会议): set one up with its experts, list and read the sessions one may
see, record annotations, schedule reminders, watch it live. May call: identity (who the experts are)
and the bid actor.
"""
