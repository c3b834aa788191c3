"""The one domain error type: a rule said no, with a message the user can read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DomainError(Exception):
    """Raised by services; handlers or the errors handler turn it into a translated answer.

    `message` is a callable returning the translated text, evaluated in the reader's locale when
    shown, so services stay free of the request's language. The errors router answers any
    DomainError that a handler does not catch with that text.
    """

    def __init__(self, code: str, message: Callable[[], str] | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self._message = message
        # The figures behind the refusal, for callers that word it themselves (the CLI tools).
        self.params = params

    def user_message(self) -> str | None:
        return self._message() if self._message is not None else None
