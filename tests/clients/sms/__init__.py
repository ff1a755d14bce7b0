"""Tests of the SMS providers: the HTTP one against the stub gateway, the dev one against real Redis."""
