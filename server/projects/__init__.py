"""Project registry: register a project, list and read the projects one may see, and the project's
electronic archive job. May call: identity (who is asking) and the project actor.
"""
