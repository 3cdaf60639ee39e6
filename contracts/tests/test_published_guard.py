"""The compatibility guard compares the code with what was PUBLISHED (read from git), not with the tree.

Each test builds a real git repository: commits schemas the way `make schemas` writes them, changes the code
and the files together (which the old tree-only guard let through), and asserts what the guard reports.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import Field

from omni_contracts import EventPayload, EventRegistry, Topic
from omni_contracts.published import ENV_BASELINE, published
from omni_contracts.schemas import all_schemas, check_tree, guard, write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

TYPE = "shop.parcel-sent"


def registry(variant: str) -> EventRegistry:
    """The same event as the code would define it in successive commits."""
    reg = EventRegistry()
    if variant == "gone":
        return reg
    if variant == "v1":

        class ParcelSentV1(EventPayload):
            parcel_id: str
            weight_g: int = Field(ge=0)

    elif variant == "additive":

        class ParcelSentV1(EventPayload):  # type: ignore[no-redef]
            parcel_id: str
            weight_g: int = Field(ge=0)
            note: str = ""

    elif variant == "breaking":

        class ParcelSentV1(EventPayload):  # type: ignore[no-redef]
            parcel_id: str
            weight_g: str  # was an integer

    else:
        raise AssertionError(variant)
    reg.event(TYPE, 1, Topic.DIAGNOSTICS)(ParcelSentV1)
    return reg


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv(ENV_BASELINE, raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "guard@test")
    git(root, "config", "user.name", "guard test")
    git(root, "config", "commit.gpgsign", "false")
    return root


def commit_schemas(repo: Path, variant: str, message: str) -> Path:
    """What a developer does: change the code, run `make schemas`, commit both."""
    directory = repo / "contracts" / "schemas"
    if directory.exists():
        shutil.rmtree(directory)
    write(directory, registry(variant))
    (repo / "code.txt").write_text(message)  # so that a commit exists even without a schema change
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return directory


def test_a_breaking_edit_of_code_and_file_in_the_latest_commit_on_main_is_caught(repo):
    commit_schemas(repo, "v1", "publish v1")
    published_at = git(repo, "rev-parse", "HEAD")
    schemas = commit_schemas(repo, "breaking", "weight_g becomes a string")
    reg = registry("breaking")
    assert check_tree(schemas, all_schemas(reg)) == [], "the tree matches the code: a tree-only guard passes"
    report = guard(schemas, reg)
    assert report.problems, "the guard must catch a published schema edited together with the code"
    assert any(
        "shop.parcel-sent.v1.json" in p and "weight_g" in p and published_at[:12] in p
        for p in report.problems
    ), report.problems
    assert "on main" in report.baseline


def test_an_edit_that_slipped_in_earlier_on_main_is_still_caught(repo):
    commit_schemas(repo, "v1", "publish v1")
    schemas = commit_schemas(repo, "breaking", "weight_g becomes a string")
    commit_schemas(repo, "breaking", "an unrelated later commit")
    assert any("weight_g" in p for p in guard(schemas, registry("breaking")).problems)


def test_an_additive_change_passes(repo):
    commit_schemas(repo, "v1", "publish v1")
    schemas = commit_schemas(repo, "additive", "add an optional note")
    report = guard(schemas, registry("additive"))
    assert report.problems == [] and report.notes == []


def test_a_published_version_that_disappeared_is_caught(repo):
    commit_schemas(repo, "v1", "publish v1")
    schemas = commit_schemas(repo, "gone", "drop the event")
    assert not any(schemas.glob("*.json"))
    problems = guard(schemas, registry("gone")).problems
    assert len(problems) == 1 and "shop.parcel-sent.v1.json: a published version" in problems[0]
    assert "disappeared" in problems[0]


def test_on_a_branch_published_is_the_merge_base_with_main(repo):
    commit_schemas(repo, "v1", "publish v1")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    schemas = commit_schemas(repo, "breaking", "feature: weight_g becomes a string")
    report = guard(schemas, registry("breaking"))
    assert f"merge base {base[:12]}" in report.baseline
    assert any("weight_g" in p for p in report.problems)


def test_a_version_new_on_a_branch_is_a_draft_until_merged(repo):
    commit_schemas(repo, "gone", "no events yet")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_schemas(repo, "v1", "feature: draft v1")
    schemas = commit_schemas(repo, "breaking", "feature: rework the draft")
    assert guard(schemas, registry("breaking")).problems == []
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    assert guard(schemas, registry("breaking")).problems == []  # merged as is: now published
    assert guard(schemas, registry("v1")).problems != []  # and may no longer go back


def test_uncommitted_changes_on_main_are_checked_against_head(repo):
    commit_schemas(repo, "v1", "publish v1")
    schemas = repo / "contracts" / "schemas"
    write(schemas, registry("breaking"))  # not committed
    assert any("weight_g" in p for p in guard(schemas, registry("breaking")).problems)


def test_the_baseline_can_be_given(repo, monkeypatch):
    commit_schemas(repo, "v1", "publish v1")
    git(repo, "tag", "v0.1.0")
    git(repo, "checkout", "-q", "--detach")
    schemas = commit_schemas(repo, "breaking", "detached CI checkout")
    git(repo, "branch", "-D", "main")  # a CI clone without a local main
    report = guard(schemas, registry("breaking"))
    assert any("no main or origin/main" in n for n in report.notes)
    monkeypatch.setenv(ENV_BASELINE, "v0.1.0")
    report = guard(schemas, registry("breaking"))
    assert "from OMNI_SCHEMAS_PUBLISHED" in report.baseline
    assert any("weight_g" in p for p in report.problems)
    monkeypatch.setenv(ENV_BASELINE, "no-such-rev")
    with pytest.raises(RuntimeError, match="not a commit"):
        guard(schemas, registry("breaking"))


def test_a_shallow_clone_says_what_it_cannot_see(repo, tmp_path):
    commit_schemas(repo, "v1", "publish v1")
    commit_schemas(repo, "breaking", "weight_g becomes a string")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    report = guard(clone / "contracts" / "schemas", registry("breaking"))
    assert any("shallow clone" in n for n in report.notes)
    deep = tmp_path / "deep"
    git(tmp_path, "clone", "-q", f"file://{repo}", str(deep))
    assert any("weight_g" in p for p in guard(deep / "contracts" / "schemas", registry("breaking")).problems)


def test_outside_git_nothing_is_published(tmp_path):
    schemas = tmp_path / "schemas"
    write(schemas, registry("v1"))
    pub = published(schemas)
    assert pub.schemas == {} and "not in a git checkout" in pub.notes[0]
    assert guard(schemas, registry("v1")).problems == []
