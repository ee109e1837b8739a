"""Writes that outlast a transaction rolled back as a whole.

What a user was told stays told even when the work it came with is undone: an answer "this document is
registered in another territory" (:mod:`crecer.registry.existence`) given while a FHIR transaction Bundle
is written, or in an import's trial run, must keep its audit event and its count although the Bundle or
the trial is rolled back.

Code that runs such a unit of work wraps its transaction in :func:`block`. A write handed to :func:`defer`
inside it is held, and run when the block ends — committed or rolled back, an exception or not — outside
the block's transaction: in autocommit, or in the transaction around the block if there is one. Blocks
nest: an inner block hands its writes to the outer one, so only the outermost block writes (an import's
batch inside a trial run). Outside any block :func:`defer` answers False and the caller writes at once,
in its own transaction (a page or an API call, whose look-ups run before the transaction of their write).

When the work is about to be kept, :func:`write_held` at the end of the block's transaction writes what the
outermost block holds inside that transaction, so the writes commit with the work: no moment lies between
the work's commit and theirs in which a dying process would lose them (an import's batch; a FHIR Bundle
that got such an answer always fails as a whole). Work that is undone, or whose commit fails, still has them
written after its rollback, by the block's end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol


class Deferred(Protocol):
    def write(self) -> None: ...


_local = threading.local()


@dataclass
class _Level:
    """One block's writes: those still held, and those written inside its transaction by :func:`write_held`
    (written again after a rollback, should that transaction not commit)."""

    held: list[Deferred] = field(default_factory=list)
    written: list[Deferred] = field(default_factory=list)


def _stack() -> list[_Level]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


@contextmanager
def block() -> Iterator[None]:
    """Hold the writes deferred inside; run them when the block ends, however it ends. Those that
    :func:`write_held` wrote inside the block's transaction are written again if the block ends with an
    exception (its transaction was undone, a failed commit included)."""
    stack = _stack()
    level = _Level()
    stack.append(level)
    undone = True
    try:
        yield
        undone = False
    finally:
        stack.pop()
        pending = [*(level.written if undone else []), *level.held]
        if stack:
            stack[-1].held.extend(pending)
        else:
            for item in pending:
                item.write()


def write_held() -> None:
    """Write, now, what the outermost block holds (call it last in the block's transaction, which then
    commits them with its work). Inside an inner block nothing is written: the outer block's work may
    still be undone (an import's batch inside a trial run), and its end writes them. Should a write or the
    commit fail, the transaction is undone and the block's end writes them again after the rollback."""
    stack = _stack()
    if len(stack) != 1:
        return
    level = stack[0]
    while level.held:
        level.held[0].write()
        level.written.append(level.held.pop(0))


def defer(item: Deferred) -> bool:
    """Hold ``item`` until the outermost block ends; False (the caller writes now) outside any block."""
    stack = _stack()
    if not stack:
        return False
    stack[-1].held.append(item)
    return True


def held() -> list[Deferred]:
    """The writes held by the blocks in force (in this thread), oldest first (not those already written in
    the block's transaction: they count where they were written)."""
    return [item for level in _stack() for item in level.held]
