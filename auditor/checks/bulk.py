"""Building the many small objects of a result without the cyclic garbage collector.

A table of 200 groups holds tens of thousands of dicts and pydantic models. None of them
forms a reference cycle, yet every few hundred allocations Python's cyclic collector walks
the young objects, and now and then every live object: measured on 1M rows and 190 groups,
that doubled the time to build a group table (0.37 s -> 0.6-0.8 s). Pausing it while the
table is built frees nothing later than it would be freed anyway: reference counting frees
acyclic objects, and the collector resumes (and runs on its usual schedule) afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (nested use is safe)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_cyclic_gc(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function that allocates many acyclic objects: see the module docstring."""

    @wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with cyclic_gc_paused():
            return function(*args, **kwargs)

    return paused
