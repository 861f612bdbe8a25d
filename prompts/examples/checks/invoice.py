"""Python checks for extract-invoice.tests.yaml (called as `python: file.py:function`)."""

from __future__ import annotations

import json
from typing import Any


def amounts_add_up(output: str, context: dict[str, Any]) -> dict[str, Any]:
    """Line-item amounts sum to the subtotal (or the total when there is no subtotal)."""
    data = json.loads(output)
    items = sum(float(i.get("amount") or 0) for i in data.get("line_items", []))
    expected = data.get("subtotal")
    if not isinstance(expected, int | float):
        expected = data.get("total") or 0
    ok = abs(items - float(expected)) < 0.011
    return {"pass": ok, "score": 1.0 if ok else 0.0, "reason": f"items {items:.2f} vs {expected}"}
