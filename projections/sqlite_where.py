"""A WHERE clause built up predicate by predicate, with its parameters in order (the SQLite read models)."""

from __future__ import annotations

from typing import Any


def marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


class Where:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, *params: Any) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def any_of(self, column: str, values: list[Any]) -> None:
        self.add(f"{column} IN ({marks(values)})", *values)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.parts)) if self.parts else ""
