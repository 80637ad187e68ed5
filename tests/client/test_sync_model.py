"""A model-based test of `blindvault sync` (issue 14): three devices of one account make
random offline creates, edits, renames, moves and deletes and sync in random order,
against a real server process. Invariant, after every device synced twice: all devices
hold the same files, and every content ever written is still there (in the tree or a
conflict copy) unless a user deleted or overwrote a file holding it.

`max_examples` is small in CI; BLINDVAULT_LONG_MODEL=1 runs a long search."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from helpers.client import Cli
from helpers.sync import Device

LONG = os.environ.get("BLINDVAULT_LONG_MODEL") == "1"
NAMES = ["a.txt", "b.txt", "d/c.txt", "d/e/f.md"]
DEVICES = 3


class Model(RuleBasedStateMachine):
    """Set by the test before it runs: the CLI, the device homes, a folder, counters."""

    cli: Cli
    homes: list[Path]
    tmp: Path
    runs: itertools.count[int]
    stats: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        run = next(self.runs)
        cli, homes, stats = self.cli, self.homes, self.stats
        self.devices = [
            Device(cli, homes[i], f"dev{i}", self.tmp / f"run{run}" / f"dev{i}")
            for i in range(DEVICES)
        ]
        self.remote = f"/Model{run}"
        self.written: set[bytes] = set()
        self.superseded: set[bytes] = set()
        self.counter = itertools.count()
        stats["examples"] += 1

    def _sync(self, dev: Device) -> None:
        code, out, err = dev("sync", str(dev.folder), self.remote, "--json")
        assert code == 0, err
        self.stats["conflicts"] += out.count('"copy"')

    @rule(d=st.integers(0, DEVICES - 1), name=st.sampled_from(NAMES))
    def write(self, d: int, name: str) -> None:
        path = self.devices[d].folder / name
        if path.is_file():
            self.superseded.add(path.read_bytes())
        data = f"content {next(self.counter)} by dev{d}".encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written.add(data)
        self.stats["steps"] += 1

    @rule(d=st.integers(0, DEVICES - 1), name=st.sampled_from(NAMES))
    def delete(self, d: int, name: str) -> None:
        path = self.devices[d].folder / name
        if path.is_file():
            self.superseded.add(path.read_bytes())
            path.unlink()
        self.stats["steps"] += 1

    @rule(d=st.integers(0, DEVICES - 1), src=st.sampled_from(NAMES), dst=st.sampled_from(NAMES))
    def rename(self, d: int, src: str, dst: str) -> None:
        a, b = self.devices[d].folder / src, self.devices[d].folder / dst
        if a.is_file() and not b.exists():
            b.parent.mkdir(parents=True, exist_ok=True)
            a.rename(b)
        self.stats["steps"] += 1

    @rule(d=st.integers(0, DEVICES - 1))
    def sync(self, d: int) -> None:
        self._sync(self.devices[d])
        self.stats["steps"] += 1

    def teardown(self) -> None:
        for _ in range(2):
            for dev in self.devices:
                self._sync(dev)
        trees = [dev.files() for dev in self.devices]
        assert trees[0] == trees[1] == trees[2], trees
        kept = set(trees[0].values())
        lost = self.written - self.superseded - kept
        assert not lost, (lost, trees[0])

    @invariant()
    def no_staging_left_between_syncs(self) -> None:
        for dev in self.devices:
            assert not list(dev.folder.glob(".blindvault-tmp-*"))


def test_three_devices_agree_and_lose_nothing(
    cli: Cli, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    homes = [Path(cli.monkeypatch_home)]
    for n in range(1, DEVICES):
        home = tmp_path / f"home{n}"
        home.mkdir()
        homes.append(home)
    stats = {"examples": 0, "steps": 0, "conflicts": 0}
    Model.cli, Model.homes, Model.tmp = cli, homes, tmp_path
    Model.runs, Model.stats = itertools.count(), stats

    for n in range(1, DEVICES):
        dev = Device(cli, homes[n], f"dev{n}", tmp_path / "login")
        code, _, err = dev("login", "--server", cli.server.url, "--email", cli.email)
        assert code == 0, err
    run_state_machine_as_test(
        Model,
        settings=settings(
            max_examples=200 if LONG else 15,
            stateful_step_count=30 if LONG else 12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    for key, value in stats.items():
        record_property(key, value)
    print(f"sync model: {stats}")
