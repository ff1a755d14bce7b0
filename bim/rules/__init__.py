"""The rule library's code: every rule module registers its rules in `bim.rules.base.RULES` when
imported here. Parameters (whitelists, allowed representation types, the tender's data items) are
data in the rule set, not code."""

from bim.rules.base import RULES, Rule

__all__ = ["RULES", "Rule", "load_all"]


def load_all() -> dict[str, Rule]:
    """Import every rule module (each registers its rules) and return the registry."""
    import importlib
    import pkgutil

    import bim.rules as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "base":
            importlib.import_module(f"bim.rules.{module.name}")
    return RULES
