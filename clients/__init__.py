"""Clients of the systems outside (SMS gateway, 基坑论证平台, 科技委, 发改/规资 data sync, 大数据中心), each
with a local stub server that speaks its HTTP contract, and the Python SDK of our own API (to come)."""
