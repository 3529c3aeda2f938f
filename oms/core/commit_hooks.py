"""One on-commit hook per transaction that later writes of the same transaction join.

An order's intake emits four events; a relay run creates the notifications of many orders.
Each would register its own callback with `transaction.on_commit` and, after the commit, send
its own message to the broker. Instead the first write registers a hook and the later ones find
it and add to it, so the commit sends one message for all of them.

A hook registered inside a savepoint that rolls back is dropped by Django with the savepoint
and is no longer found: the next write registers a new one. What rolled-back writes added to a
hook registered earlier stays in it, so whatever the hook queues must cope with rows that do
not exist (the tasks it queues do: they find nothing and do nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import connection, transaction


class CommitHook:
    """Work gathered over one transaction; `run` is called once, after the commit."""

    label = "commit hook"

    def __init__(self, transaction_block: object) -> None:
        self.transaction_block = transaction_block
        self.done = False
        self.__qualname__ = self.label  # Django names a failed on-commit callback by it

    def __call__(self) -> None:
        # A test case that runs on-commit callbacks by hand leaves them in Django's list, where
        # a later write would otherwise find this spent hook and join it.
        self.done = True
        self.run()

    def run(self) -> None:
        raise NotImplementedError


Hook = TypeVar("Hook", bound=CommitHook)


def _outermost_block() -> object:
    """The atomic block that commits: the outermost one, not counting the blocks a test case
    wraps around each test (there, every request or service call is its own transaction,
    while Django keeps all their on-commit callbacks in one list)."""
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def commit_hook(kind: type[Hook], make: Callable[[object], Hook]) -> Hook:
    """This transaction's hook of `kind`; at the first call `make(block)` builds it and it is
    registered to run after the commit. Robust: if it fails (the broker is down), the commit
    stands and a beat sweep does the work later. Outside a transaction Django would run the
    hook at once, before anything was added to it: refused."""
    if not connection.in_atomic_block:
        raise RuntimeError("A commit hook is joined inside the transaction whose commit runs it.")
    block = _outermost_block()
    for _savepoints, callback, _robust in reversed(connection.run_on_commit):
        if isinstance(callback, kind) and callback.transaction_block is block \
                and not callback.done:
            return callback
    hook = make(block)
    transaction.on_commit(hook, robust=True)
    return hook
