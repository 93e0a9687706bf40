"""The Typer app every command group is made with: plain help, and bad usage always exit 2.

- Help shows no type tags (`<str>`, `<bool>`, `<int>`): the help text says what a value is.
  Only a choice's values are shown (`<push|day|pool|task>`), since those the text need not
  repeat. Arguments are named in capitals (`SQL`), as in the usage line.
- A `BadRequest` naming one of the running command's own options or arguments (`--since`,
  `SQL`) is bad usage: Typer prints the usage line and the message and exits 2, as it does for
  the values it checks itself (choices, numbers, ranges).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from shipgauge.errors import BadRequest

__all__ = ["App"]

_F = TypeVar("_F", bound=Callable[..., Any])


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return TyperArgument.display_type_rich(self, ctx) if _is_choice(self) else ""


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        return TyperOption.display_type_rich(self, ctx) if _is_choice(self) else ""

    def get_help_record(self, ctx: Any) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)  # plain help puts a space before the type
        if record is None:
            return None
        return " / ".join(part.strip() for part in record[0].split(" / ")), record[1]


def _is_choice(param: TyperArgument | TyperOption) -> bool:
    return bool(getattr(getattr(param, "type_descriptor", None), "is_choice", False))


def _plain(params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            param.metavar = param.metavar or (param.name or "").upper()


def _usage_names(params: list[Any]) -> set[str]:
    names: set[str] = set()
    for param in params:
        if isinstance(param, TyperArgument):
            names.add(param.metavar or "")
        else:
            names.update(param.opts, param.secondary_opts)
    return names - {""}


class _PlainParams:
    """Commands and groups alike: their options and arguments, `--help` too, printed plainly."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _plain([option])
        return option


class _Command(_PlainParams, TyperCommand):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BadRequest as exc:
            if exc.field and exc.field in _usage_names(self.params):
                raise typer.BadParameter(exc.message, ctx=ctx) from None
            raise


class _Group(_PlainParams, TyperGroup):
    pass


class App(typer.Typer):
    """`typer.Typer` whose groups and commands follow the rules above."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=_Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[_F], _F]:
        kwargs.setdefault("cls", _Command)
        decorator: Callable[[_F], _F] = super().command(*args, **kwargs)
        return decorator
