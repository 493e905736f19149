"""Sums of weights that do not depend on the order the rows are added in.

DuckDB's and Spark's threads add rows in whatever order they finish, and float sums change
in their last bits with the order: the same log would print different numbers run to run.
Each weight (or squared weight) v is therefore written as v * 2^a = hi + lo / 2^32, with hi
and lo whole numbers, and both are summed as 64-bit integers, which is exact in any order.
The exponent a comes from a bound on the sum that does not depend on order either (rows x
the largest value), chosen so that the sum of hi stays below 2^62; the resolution 2^-(a+32)
is far below a double's on any sum the bound allows. BIGINT sums run at nearly the speed of
double sums in both engines (Spark's DECIMAL(38) sums are about ten times slower).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

HEADROOM_BITS = 62
WORD = 4294967296  # 2^32


def _double(value: float) -> str:
    """A double literal both dialects read as a double (Spark reads 1.5 as a DECIMAL)."""
    return f"{value:.17e}"


@dataclass(frozen=True)
class FixedPoint:
    """The exponent a of one sum's fixed-point representation."""

    exponent: int

    @classmethod
    def for_bound(cls, bound: float) -> FixedPoint:
        """The largest a whose integer parts cannot overflow a sum of at most ``bound``."""
        if not bound > 0 or not math.isfinite(bound):
            return cls(0)
        return cls(math.floor(HEADROOM_BITS - math.log2(bound)))

    def select(self, expression: str, name: str, quote: Callable[[str], str]) -> list[str]:
        """Two SQL sums (integer part, next 32 bits) of ``expression``, named after ``name``."""
        scaled = f"(({expression}) * {_double(math.ldexp(1.0, self.exponent))})"
        hi = f"CAST(floor({scaled}) AS BIGINT)"
        lo = f"CAST(round(({scaled} - floor({scaled})) * {_double(WORD)}) AS BIGINT)"
        return [
            f"CAST(sum({hi}) AS BIGINT) AS {quote(name + ':hi')}",
            f"CAST(sum({lo}) AS BIGINT) AS {quote(name + ':lo')}",
        ]

    def combine(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """``frame`` with the two integer sums of ``name`` replaced by their float value."""
        hi, lo = frame.pop(name + ":hi"), frame.pop(name + ":lo")
        frame[name] = [
            math.ldexp(float(int(h) * WORD + int(low)), -(self.exponent + 32))
            for h, low in zip(hi, lo, strict=True)
        ]
        return frame
