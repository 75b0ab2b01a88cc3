"""The per-unit-of-work state an expansion reads and writes (DESIGN rule 4).

One ``ExpandContext`` is made per connection/message/address; expansions
read variables from it and update the few things Exim's expansions set as a
side effect ($value, $1..$n, $item, prvscheck results).  Nothing here is
module-level, so concurrent units of work never share state.
"""

from __future__ import annotations

from typing import Any, Callable


class ExpandContext:
    """Variables and hooks for evaluating expansions.

    config:   the loaded configuration (``config.main.get(name)``,
              ``config.named_lists``), or None.
    message:  an object with ``headers`` (header lines, see ``headers.py``),
              or None outside message processing.
    values:   variable name -> value (str, int, or a zero-argument callable
              for values that are costly to compute); overrides defaults.
    acl_c / acl_m: connection and message ACL variables (name -> value).
    acl_eval: hook ``(name, args) -> (rc, user_message)`` used by ``${acl``
              and the ``acl`` condition; rc is "OK", "FAIL", "DEFER", "ERROR".
    """

    __slots__ = (
        "config", "message", "values", "acl_c", "acl_m", "acl_args",
        "nvars", "value", "item", "acl_eval", "prvscheck", "runrc",
        "filter_running", "strict_acl_vars", "headers_charset", "lookup_cache",
        "forbid", "extra",
    )

    def __init__(self, config: Any = None, message: Any = None,
                 values: dict[str, Any] | None = None,
                 acl_eval: Callable[[str, list[str]], tuple[str, str | None]] | None = None):
        self.config = config
        self.message = message
        self.values = values if values is not None else {}
        self.acl_c: dict[str, str] = {}
        self.acl_m: dict[str, str] = {}
        self.acl_args: list[str] = []
        self.nvars: tuple[str, ...] = ()       # $0..$n from the last match
        self.value: str | None = None          # $value (lookup_value)
        self.item: str | None = None           # $item (iterate_item)
        self.acl_eval = acl_eval
        self.prvscheck: dict[str, str | None] = {}
        self.runrc = 0
        self.filter_running = False
        self.strict_acl_vars = False
        self.headers_charset: str | None = None
        self.lookup_cache: dict = {}
        self.forbid = 0                        # RDO_* bits (see items.py)
        self.extra: dict[str, Any] = {}

    def main_option(self, name: str, default: Any = None) -> Any:
        """A main configuration option's value, or ``default``."""
        cfg = self.config
        if cfg is None:
            return default
        main = getattr(cfg, "main", None)
        if main is None:
            return default
        try:
            v = main.get(name)
        except Exception:  # noqa: BLE001 - an option table may refuse unknown names
            return default
        return default if v is None else v

    def named_list(self, kind: str, name: str) -> str | None:
        """The text of named list ``name`` of ``kind`` (domain/host/address/localpart)."""
        lists = getattr(self.config, "named_lists", None) if self.config is not None else None
        if not lists:
            return None
        by_kind = lists.get(kind) or lists.get(kind + "list") or {}
        return by_kind.get(name)
