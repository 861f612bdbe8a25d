"""The HTML report of a run shows people's ratings (`promptlab review`) beside its charts."""

from __future__ import annotations

from pathlib import Path

from promptlab.store.db import connect
from promptlab.store.ratings import Rating, run_cases, save
from tests.conftest import Cli
from tests.store.test_ratings import RUN, two_model_run
from tests.store.test_store_api import config_in


def test_the_run_page_shows_win_rates_scores_and_agreement_escaped(project: Path, cli: Cli) -> None:
    two_model_run(config_in(project))
    con = connect(config_in(project).store_path)
    for rater in ("ana", "<b>ben</b>"):
        for case in run_cases(con, RUN):
            ids = {a.model_alias: a.call_id for a in case.answers}
            save(con, Rating(RUN, case.key, rater, list(ids.values()), winner=ids["nova"],
                             scores={ids["nova"]: 5}))  # fmt: skip
    con.close()
    result = cli("report", "html", "last", "-o", "page.html")
    assert result.exit_code == 0, result.output
    page = Path("page.html").read_text("utf-8")
    section = page.split("<h2>Human ratings (6; a tie counts as half a win)</h2>", 1)[1]
    section = section.split("</section>", 1)[0]
    # nova won all 6 comparisons: 100 %, Wilson 95 % interval 61 %–100 %
    assert ("<tr><td>nova</td><td>claude</td><td>6</td><td>0</td><td>0</td><td>100%</td>"
            "<td>61%–100%</td></tr>") in section  # fmt: skip
    assert "<tr><td>nova</td><td>6</td><td>5.00</td></tr>" in section
    assert "&lt;b&gt;ben&lt;/b&gt;–ana κ" in section and "<b>ben" not in section
    assert "3 cases rated by 2+ raters, 100% of rater pairs agree" in section


def test_a_run_nobody_rated_has_no_ratings_section(project: Path, cli: Cli) -> None:
    two_model_run(config_in(project))
    assert cli("report", "html", "last", "-o", "page.html").exit_code == 0
    assert "Human ratings" not in Path("page.html").read_text("utf-8")
