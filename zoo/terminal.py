"""Text bound for a terminal, with its control characters written as escapes.

Names, class labels, columns and paths come from the user's files; printed raw, an ESC or BEL in them drives
the terminal (`\\e]0;...\\a` sets its title, other sequences hide or rewrite text). Everything the CLI and the
training loop print goes through `terminal_safe`. Standard library only.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")   # C0 but tab and newline, DEL, C1 (ESC is C0)


def terminal_safe(text: str, *, json_text: bool = False) -> str:
    """`text` with control characters written as escapes (\\x1b, \\x07, ...; \\u001b in JSON text, which stays
    valid JSON); tab and newline kept."""
    form = "\\u{:04x}" if json_text else "\\x{:02x}"
    return _CONTROL.sub(lambda m: form.format(ord(m.group())), text)
