"""Representativeness of the audit data: the public entry points.

- :func:`group_shares`: rows and weighted share per group, Wilson intervals, the groups below
  ``min_group_size`` (no reference needed).
- :func:`compare_to_reference`: observed vs expected (census, applicant-pool) shares, the
  representation ratio, a chi-square goodness-of-fit test and the total variation distance.
- :func:`base_rates`: the positive rate of the target per group (label balance).
- :func:`shift`: training vs audit data, per group, in shares and base rates.

Groups arrive as integer ``codes`` (n,) in ``[0, n_groups)`` with ``keys`` ('sex=Female') and
optional non-negative ``weights`` (n,). Weighted intervals use Kish effective counts, so scaling
every weight by a constant changes nothing. Undefined values are NaN with a reason string.
The computations live in :mod:`~auditor.governance.group_shares`,
:mod:`~auditor.governance.reference_shares` and :mod:`~auditor.governance.representation_shift`.
"""

from __future__ import annotations

from auditor.governance.group_shares import BaseRates, GroupShares, base_rates, group_shares
from auditor.governance.reference_shares import (
    OTHER,
    SUM_TOLERANCE,
    ReferenceComparison,
    compare_to_reference,
)
from auditor.governance.representation_shift import GroupShift, shift

__all__ = [
    "OTHER",
    "SUM_TOLERANCE",
    "BaseRates",
    "GroupShares",
    "GroupShift",
    "ReferenceComparison",
    "base_rates",
    "compare_to_reference",
    "group_shares",
    "shift",
]
