"""Validation errors shared by every write path: one record's problems, by field, with codes.

Messages are translated where they are raised; codes are stable for API clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: the largest id a record can have (a 64-bit primary key on both databases): a larger number is no record's
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str


class InputErrors(Exception):
    """Every problem found in one record, by field."""

    def __init__(self, errors: dict[str, list[FieldError]]) -> None:
        super().__init__("; ".join(f"{f}: {e.message}" for f, errs in errors.items() for e in errs))
        self.errors = errors

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {f: [{"code": e.code, "message": e.message} for e in errs] for f, errs in self.errors.items()}


@dataclass
class Collector:
    errors: dict[str, list[FieldError]] = field(default_factory=dict)

    def add(self, name: str, code: str, message: str) -> None:
        self.errors.setdefault(name, []).append(FieldError(code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)
