"""Tests of the clients of outside systems, each against its local stub server."""
