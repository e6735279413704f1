"""`hot_record`: a record built for every report, immutable to the type checker, cheap to build.

A frozen dataclass stores each field in `__init__` through `object.__setattr__` (its own
`__setattr__` refuses), a generic attribute call of ~1,000 instructions a field in Python 3.11.
A report's transaction builds five such records (~45 fields): 13 % of the database thread's
instructions a report (issue 19). A `hot_record` is a plain slots dataclass at run time, so
`__init__` stores each field directly, and a frozen one to mypy (`frozen_default`), which
refuses any assignment to a field under `mypy --strict` (run by CI), as for every other record.
Equality and the hash are the frozen dataclass's (`unsafe_hash`: from the fields).

Only for records a report builds; everything else stays `@dataclass(frozen=True, slots=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def hot_record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)
