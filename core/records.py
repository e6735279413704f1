"""`hot_record`: a record built for every report, immutable to the type checker, cheap to build.

A frozen dataclass stores each field in `__init__` through `object.__setattr__` (its own
`__setattr__` refuses), a generic attribute call of ~1,000 instructions a field in Python 3.11.
A report's transaction builds five such records (~45 fields): 13 % of the database thread's
instructions a report (issue 19). A `hot_record` is a plain slots dataclass at run time, so
`__init__` stores each field directly, and a frozen one to mypy (`frozen_default`), which
refuses any assignment to a field under `mypy --strict` (run by CI), as for every other record.
Equality and the hash are the frozen dataclass's (`unsafe_hash`: from the fields).

Only for records a report builds; everything else stays `@dataclass(frozen=True, slots=True)`.

`keyword_maker`: the same record built from keyword arguments without what a class call with
keywords costs in Python 3.11 (see there).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast, dataclass_transform

T = TypeVar("T")
P = ParamSpec("P")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def hot_record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True, kw_only=True)(cls)


def keyword_maker(cls: Callable[P, T]) -> Callable[P, T]:
    """A function that builds a `hot_record` from keyword arguments, equal to
    `cls(**kwargs)`, typed by mypy as `cls`'s own constructor (names, types, defaults; a
    `hot_record` takes keywords only, so mypy refuses a positional call to either).

    Why: Python 3.11 calls a class through `type.__call__`, which takes keywords as a dict:
    the call's keywords are packed into one, then unpacked again for `__init__` (~3,500
    instructions a record; a report builds four such records with 4-14 fields each, issue
    19). A function takes keywords without a dict, so the maker, made here from the
    dataclass's fields, builds the instance itself: `object.__new__` and one store per slot,
    what `__init__` does, defaults included.

    Refused, at import, for any class whose construction does more than store its fields:
    not a slots dataclass, a frozen one (its `__setattr__` refuses), a `__post_init__`, a
    `default_factory`, a field left out of `__init__` or an `InitVar` (the class's signature
    is not its fields), its own `__new__` or metaclass, a hand-written `__init__`; the last
    check builds one record both ways, a distinct value per field, and compares every slot."""
    record = cast("type[Any]", cls)
    if not dataclasses.is_dataclass(record) or "__slots__" not in vars(record):
        raise TypeError(f"{record.__name__} is not a slots dataclass")
    params = dataclasses.fields(record)
    names = [f.name for f in params]
    dataclass_params = record.__dataclass_params__  # type: ignore[attr-defined]
    if (
        hasattr(record, "__post_init__")
        or dataclass_params.frozen
        or not dataclass_params.init
        or type(record) is not type
        or record.__new__ is not object.__new__
        or any(not f.init or f.default_factory is not dataclasses.MISSING for f in params)
        or list(inspect.signature(record).parameters) != names
    ):
        raise TypeError(f"{record.__name__}'s construction does more than store its fields")
    namespace: dict[str, Any] = {"__vigil_new": object.__new__, "__vigil_cls": record}
    signature = []
    for f in params:
        if f.default is dataclasses.MISSING:
            signature.append(f.name)
        else:
            namespace[f"__vigil_default_{f.name}"] = f.default
            signature.append(f"{f.name}=__vigil_default_{f.name}")
    stores = "".join(f"    __vigil_self.{name} = {name}\n" for name in names)
    name = f"make_{record.__name__}"
    head = f"def {name}(*, {', '.join(signature)}):\n    __vigil_self = __vigil_new(__vigil_cls)\n"
    # The source is made here, from the dataclass's field names only.
    exec(f"{head}{stores}    return __vigil_self\n", namespace)
    maker = namespace[name]
    maker.__module__ = record.__module__
    maker.__doc__ = record.__doc__
    values = {name: object() for name in names}  # what `__init__` stores, slot by slot
    made, built = maker(**values), record(**values)
    if any(getattr(made, n) is not v or getattr(built, n) is not v for n, v in values.items()):
        raise TypeError(f"{record.__name__}'s __init__ does more than store its fields")
    return cast("Callable[P, T]", maker)
