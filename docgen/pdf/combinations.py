"""Load combinations of the calculation book, computed from the filled-in loads and the code tables in
`docgen/data/` (GB 50009-2012 Table 5.1.1 combination factors, GB 55001-2021 partial factors).

Per room (area loads in kN/m²): basic γ0(γG·gk + γQ·γL·qk), characteristic gk + qk, frequent
gk + ψf·qk, quasi-permanent gk + ψq·qk. The tables are marked illustrative in the data: the project
must take current values from the code text.
Must not: lay out anything, or read the filling data beyond the values passed in.
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@functools.cache
def _data(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def live_load_table() -> dict[str, Any]:
    return _data("live_load_categories")


def factors() -> dict[str, Any]:
    return _data("load_factors")


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    clause: str
    qk: float  # the code's minimum characteristic value
    psi_c: float
    psi_f: float
    psi_q: float


def category(name: str) -> Category | None:
    row = live_load_table()["categories"].get(name)
    if row is None:
        return None
    return Category(
        name, row["description"], row["clause"], row["qk"], row["psi_c"], row["psi_f"], row["psi_q"]
    )


def gamma_l(design_life_years: float) -> float:
    """γL for the design working life, interpolated linearly between the tabulated lives (GB 50009 3.2.5)."""
    table = sorted((float(k), float(v)) for k, v in factors()["gamma_l_by_design_life"].items())
    if design_life_years <= table[0][0]:
        return table[0][1]
    for (life_a, value_a), (life_b, value_b) in itertools.pairwise(table):
        if design_life_years <= life_b:
            return round(value_a + (value_b - value_a) * (design_life_years - life_a) / (life_b - life_a), 3)
    return table[-1][1]


def gamma_0(safety_grade: str) -> float:
    return float(factors()["gamma_0_by_safety_grade"][safety_grade])


@dataclass(frozen=True)
class Combination:
    """One room's combined area loads (kN/m²)."""

    room: str
    category: Category
    gk: float
    qk: float
    gamma_0: float
    gamma_g: float
    gamma_q: float
    gamma_l: float

    @property
    def basic(self) -> float:
        return self.gamma_0 * (self.gamma_g * self.gk + self.gamma_q * self.gamma_l * self.qk)

    @property
    def characteristic(self) -> float:
        return self.gk + self.qk

    @property
    def frequent(self) -> float:
        return self.gk + self.category.psi_f * self.qk

    @property
    def quasi_permanent(self) -> float:
        return self.gk + self.category.psi_q * self.qk

    def basic_formula(self) -> str:
        return (
            f"{self.gamma_0:g}×({self.gamma_g:g}×{self.gk:.2f}+{self.gamma_q:g}×{self.gamma_l:g}×{self.qk:.2f})"
            f" = {self.basic:.2f}"
        )

    def characteristic_formula(self) -> str:
        return f"{self.gk:.2f}+{self.qk:.2f} = {self.characteristic:.2f}"

    def frequent_formula(self) -> str:
        return f"{self.gk:.2f}+{self.category.psi_f:g}×{self.qk:.2f} = {self.frequent:.2f}"

    def quasi_permanent_formula(self) -> str:
        return f"{self.gk:.2f}+{self.category.psi_q:g}×{self.qk:.2f} = {self.quasi_permanent:.2f}"


def combine(
    room: str, category_name: str, gk: float, qk: float, gamma_0_: float, gamma_l_: float
) -> Combination:
    found = category(category_name)
    if found is None:
        raise KeyError(category_name)
    table = factors()
    return Combination(room, found, gk, qk, gamma_0_, table["gamma_g"], table["gamma_q"], gamma_l_)


def wind_mu_z(height_m: float) -> float:
    """Height coefficient of wind pressure for terrain B (GB 50009 8.2.1), not less than at 10 m."""
    wind = factors()["wind"]
    ratio = max(height_m, 10.0) / 10.0
    mu_z: float = float(wind["mu_z_at_10m"]) * ratio ** float(wind["mu_z_exponent"])
    return round(mu_z, 3)
