"""The web vault refuses the same new passwords as the CLI (issue 20): the page's rule
(app/strength.js with @zxcvbn-ts in its worker, run in Node) against cli/strength.py
(zxcvbn for Python) on the same passwords and emails. The two implementations' scores
may differ by a step; what must agree is the decision (refused below score 3)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from blindvault.cli.strength import MIN_SCORE, check_new_password
from blindvault.errors import PolicyError

HERE = Path(__file__).parent
EMAIL = "ann.lee@example.org"
CASES = [
    "abc", "password", "password123", "P@ssw0rd!", "qwertyuiop", "letmein2024", "iloveyou",
    "hunter2hunter2", "aaaaaaaaaaaa", "123456789012", "ann.lee1990", "annblindvault",
    "blindvault2024", "example.org!", "Summer2024!", "dragon", "monkey123", "zaq12wsx",
    "correct horse battery staple", "Tr0ub4dor&3", "kitten-oyster-radar-mango-fluent-elbow",
    "purple-tractor-whisper-09", "m7#Kq2!vZp9$Lr", "my cat eats blue socks on sundays",
    "xkcd936 is famous now", "unlikely.gravel.telescope", "R4nd0m-Wh1stle-Pan3l",
]  # fmt: skip


def _cli_accepts(password: str) -> bool:
    try:
        check_new_password(password, EMAIL, accept_weak=False)
    except PolicyError:
        return False
    return True


def test_browser_and_cli_refuse_the_same_passwords() -> None:
    node = shutil.which("node")
    assert node is not None, "node (20+) is required for the web tests"
    result = subprocess.run(
        [node, str(HERE / "strength_run.mjs")],
        input=json.dumps([[p, EMAIL] for p in CASES]),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    web = json.loads(result.stdout)
    assert len(web) == len(CASES)
    decisions = {
        p: (bool(accepted), _cli_accepts(p)) for p, (accepted, _) in zip(CASES, web, strict=True)
    }
    differ = {p: d for p, d in decisions.items() if d[0] != d[1]}
    assert differ == {}, differ
    # both sides refuse some and accept some: the comparison is not vacuous
    assert {d[0] for d in decisions.values()} == {True, False}
    js = (HERE.parent.parent / "src/blindvault/web/app/strength.js").read_text(encoding="utf-8")
    threshold = re.search(r"export const MIN_SCORE = (\d+);", js)
    assert threshold is not None and int(threshold.group(1)) == MIN_SCORE
