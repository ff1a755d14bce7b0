"""Who is calling: sessions in Redis and, until the identity issue replaces it, the demo login.

May call: nothing of the other domains.
"""
