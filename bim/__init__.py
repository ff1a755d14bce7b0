"""IFC checking, IDS completeness, the rule library, geometry export, viewpoints, evidence store and
SM4 sealing (to come)."""
