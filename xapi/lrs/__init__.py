"""The embedded LRS: xAPI Statement, document, Activities and Agents resources as a blueprint.

`create_lrs_blueprint` is imported lazily so that `xapi.lrs.models` (tables) loads without Flask.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_lrs_blueprint"]


def __getattr__(name: str) -> Any:
    if name == "create_lrs_blueprint":
        from xapi.lrs.blueprint import create_lrs_blueprint

        return create_lrs_blueprint
    raise AttributeError(name)
