"""The one exception condis raises for driver misuse."""

from __future__ import annotations

from typing import Any


class Violation(Exception):
    """A driver broke a documented CoNDIS rule.

    Raised at the DDI entry, handler return or completion that broke the rule, before NDIS
    changes any state, so every other AF, SAP, VC, party and call is untouched.

    Attributes:
        rule: short rule id (the Static Driver Verifier name where one exists, else ``condis.*``).
        page: the reference page that states the rule, relative to the reference pack.
        ddi: the DDI or handler in which the rule was broken.
        detail: what was called, in what state, and what was expected.
    """

    def __init__(self, rule: str, page: str, ddi: str, detail: str, **objects: Any) -> None:
        self.rule = rule
        self.page = page
        self.ddi = ddi
        self.detail = detail
        self.objects = objects
        super().__init__(f"{ddi}: {detail} [rule {rule}; see {page}]")
