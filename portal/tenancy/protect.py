"""What a tenant base class keeps to itself: the class-creation check of the API base
(`portal.tenancy.api`) and the admin base (`portal.admin.base`) covers every name the base
defines, so a method added to a base later is protected without anyone remembering to list
it; subclasses extend through `safely_…` hooks and the few names each base lists as hooks."""
from __future__ import annotations

from collections.abc import Iterable


def protected_names(base: type, hooks: Iterable[str]) -> list[str]:
    """Every name `base` defines but dunders, `safely_…` / `dangerously_…` hooks and `hooks`."""
    allowed = set(hooks)
    return [name for name in vars(base)
            if not (name.startswith("__") or name.startswith(("safely_", "dangerously_"))
                    or name in allowed)]


def refuse_overrides(cls: type, base: type, hooks: Iterable[str], advice: str) -> None:
    """Called by `base.__init_subclass__`: a TypeError when `cls` redefines a protected name of
    `base` that its `dangerously_override` does not name. `advice` ends the message after
    "(<owner> defines it": where the logic lives and which hooks to use instead."""
    for name in protected_names(base, hooks):
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        if owner is not base and name not in cls.dangerously_override:  # type: ignore[attr-defined]
            raise TypeError(f"{cls.__name__} must not override {name} "
                            f"({owner.__name__} defines it{advice}")
