"""Issued documents (出具文件): generation from project data, issuing with the platform SM2 signature,
revocation and public verification."""
