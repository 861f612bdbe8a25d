"""One self-contained HTML report for a run or a test run (no network, strict CSP).

`run_page` compares a run's answers case by case, one column per model (per prompt version ×
model when versions are compared); `test_page` shows a test run's cases × models with filters,
the baseline comparison and charts. Modules: `page` (document, header, safety), `payload`
(the JSON the script draws), `charts` (inline SVG), `script` and `style` (the page's own JS/CSS).
"""

from promptlab.views.html.page import run_page, test_page

__all__ = ["run_page", "test_page"]
