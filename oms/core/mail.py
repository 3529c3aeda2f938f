"""E-mail backends of our own."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


class SummaryConsoleEmailBackend(ConsoleEmailBackend):
    """The demo's backend: one line per e-mail on the console (recipient, subject, parts)
    instead of the whole MIME message, whose HTML and base64 QR image would bury the server's
    output. The full text is what the customer notification templates render; read it in the
    cockpit (Notifications) or send to a real mail sink with EMAIL_BACKEND."""

    def write_message(self, message: Any) -> None:
        parts = ["text"]
        parts += [mimetype.split("/")[-1] for _content, mimetype in
                  getattr(message, "alternatives", [])]
        if message.attachments:
            parts.append(f"{len(message.attachments)} attachment(s)")
        self.stream.write(f"[mail] to {', '.join(message.to)}: {message.subject} "
                          f"({', '.join(parts)})\n")
