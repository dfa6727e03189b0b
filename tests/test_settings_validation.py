"""Every value of ``accessops.toml`` is checked: a bad one is one line naming the file and the key, exit 1.

A share is a number from 0 to 1, a count a non-negative whole number, a
switch true or false; ``nan`` or ``inf`` never silently turns a guard off.
"""

from __future__ import annotations

import json

import pytest

from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

BAD: list[tuple[str, str]] = [
    ("[guards.budgets]\nmax_share = nan\n", "[guards.budgets] max_share is a fraction from 0 to 1 (0.25 = 25%), not nan"),
    ("[guards.budgets]\nmax_share = inf\n", "[guards.budgets] max_share is a fraction from 0 to 1 (0.25 = 25%), not inf"),
    ("[guards.budgets]\nmax_share = -0.1\n", "[guards.budgets] max_share is a fraction from 0 to 1 (0.25 = 25%), not -0.1"),
    ('[guards.budgets]\nmax_share = "25%"\n', "[guards.budgets] max_share is a fraction from 0 to 1 (0.25 = 25%), not '25%'"),
    ("[guards.budgets]\nmax_share = true\n", "[guards.budgets] max_share is a fraction from 0 to 1 (0.25 = 25%), not True"),
    ("[guards.budgets.members]\nmax_share = nan\n", "[guards.budgets.members] max_share is a fraction from 0 to 1 (0.25 = 25%), not nan"),
    ("[guards.budgets]\nmin_existing = 1.5\n", "[guards.budgets] min_existing must be a whole number of at least 0, not 1.5"),
    ("[guards.budgets]\nmin_existing = -1\n", "[guards.budgets] min_existing must be a whole number of at least 0, not -1"),
    ("[guards.budgets.admins]\nmax_count = nan\n", "[guards.budgets.admins] max_count must be a whole number of at least 0, not nan"),
    ("[guards.budgets]\nmax_count = true\n", "[guards.budgets] max_count must be a whole number of at least 0, not True"),
    ("[guards]\nmin_admins = 1.0\n", "[guards] min_admins must be a whole number of at least 0, not 1.0"),
    ("[guards]\nmin_admins = -1\n", "[guards] min_admins must be a whole number of at least 0, not -1"),
    ('[guards]\nallow_cascade = "yes"\n', "[guards] allow_cascade must be true or false, not 'yes'"),
    ("[guards]\nallow_removals = {members = nan}\n", "[guards] allow_removals.members must be a whole number of at least 0, not nan"),
    ("[guards]\nmin_admin = 2\n", "[guards] unknown key 'min_admin' (known: allow_cascade, allow_removals, budgets, min_admins)"),
    ("[invitations]\nexpire_days = -3\n", "[invitations] expire_days must be a whole number of at least 0, not -3"),
    ("[invitations]\nresend = 1\n", "[invitations] resend must be true or false, not 1"),
    ("[invitations]\nexpire = 3\n", "[invitations] unknown key 'expire' (known: expire_days, resend)"),
    ("[apply]\nparallelism = 0\n", "[apply] parallelism must be a whole number of at least 1, not 0"),
    ('[apply]\nparallelism = "four"\n', "[apply] parallelism must be a whole number of at least 1, not 'four'"),
    ('[lint]\nerrors = "blank-screen"\n', "[lint] errors must be a list of strings, not 'blank-screen'"),
    ("target = 5\n", "target must be a string (a target URL), not 5"),
    ("state = []\n", "state must be a string (a file path or URL), not []"),
    ("guards = 3\n", "[guards] must be a table"),
]


@pytest.mark.parametrize(("toml", "message"), BAD, ids=[m.split(" must")[0].split(" is a")[0] + f"-{i}" for i, (_, m) in enumerate(BAD)])
def test_a_bad_setting_is_one_line_naming_file_and_key(workdir: Workdir, toml: str, message: str) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    workdir.write("accessops.toml", toml)
    for argv in (("plan",), ("apply", "--auto-approve")):
        code, _, err = workdir.run(*argv)
        assert code == 1, (argv, err)
        assert err == f"error: {workdir.root / 'accessops.toml'}: {message}\n"
    code, out, _ = workdir.run("plan", "--format", "json")
    assert code == 1
    assert json.loads(out)["error"] == {
        "message": f"{workdir.root / 'accessops.toml'}: {message}",
        "file": str(workdir.root / "accessops.toml"),
        "line": None,
        "column": None,
        "exit_code": 1,
    }


def test_a_settings_file_that_is_not_utf8_names_the_file(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    (workdir.root / "accessops.toml").write_bytes(b"[guards]\n# caf\xe9\nmin_admins = 1\n")
    code, _, err = workdir.run("plan")
    assert code == 1
    assert err == f"error: {workdir.root / 'accessops.toml'}: not valid UTF-8 (byte 0xe9 at line 2); save the file as UTF-8\n"


def test_good_settings_still_work(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    workdir.write(
        "accessops.toml",
        "[guards]\nmin_admins = 1\nallow_cascade = false\nallow_removals = {members = 0}\n"
        "[guards.budgets]\nmax_share = 0\nmin_existing = 0\n[guards.budgets.members]\nmax_share = 1\nmax_count = 3\n"
        "[invitations]\nexpire_days = 0\nresend = false\n[apply]\nparallelism = 2\n[lint]\nerrors = []\n",
    )
    code, _, err = workdir.apply()
    assert code == 0, err
