"""No command destroys a file it did not write: build/import/demo --out and Recommender.save
refuse a folder that is not theirs, or that is or holds their input; writers of one folder
take turns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kg.atomic
from kg.artifact import load_artifact
from kg.atomic import folder_lock
from kg.jsonl import write_dataset
from kg.ownership import RefusedFolderError, check_new_file
from kg.records import Dataset, Event, Product, User
from scripts.cli import main

REPO = Path(__file__).resolve().parents[2]


def small_dataset(folder: Path) -> None:
    write_dataset(Dataset(products=[Product("A", "Green tea"), Product("B", "Mug")],
                          users=[User("1"), User("2")],
                          events=[Event("1", "A", "product", "purchase", ts=1.0)]), folder)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def destroyed(before: dict[str, bytes], root: Path) -> list[str]:
    """Files of ``before`` that are gone or changed."""
    after = snapshot(root)
    return [name for name, data in before.items() if after.get(name) != data]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A user's folder: a project with notes, a dataset inside it, a sources folder."""
    project = tmp_path / "project"
    small_dataset(project / "data")
    (project / "notes.txt").write_text("my notes")
    (tmp_path / "my_project").mkdir()
    (tmp_path / "my_project" / "notes.txt").write_text("keep me")
    (tmp_path / "somewhere").mkdir()
    (tmp_path / "somewhere" / "report.docx").write_bytes(b"\x00draft")
    return tmp_path


def test_no_command_destroys_a_users_file(world: Path, capsys, monkeypatch,
                                          small_demo_artifact: Path) -> None:
    from recommend.recommender import Recommender

    data = world / "project" / "data"
    before = snapshot(world)
    build = ["build", str(data), "--graph-only", "--out"]
    cases = [
        ([*build, str(world / "my_project")], "my_project: exists and is not a shopgraph"),
        ([*build, str(data)], "data: is the input"),
        ([*build, str(world / "project")], "project: contains the input"),
        (["import", "movielens", str(data), "--out", str(world / "somewhere")],
         "somewhere: exists and is not a shopgraph dataset"),
        (["import", "movielens", str(data), "--out", str(data)], "data: is the input"),
        (["import", "demo", "--out", str(world / "my_project"), "--no-images"],
         "my_project: exists and is not a shopgraph dataset"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "refusing" in err and "Traceback" not in err
    monkeypatch.chdir(world / "project")
    assert main([*build, "."]) == 2
    assert "project: contains the input" in capsys.readouterr().err
    (world / "my_project" / "empty").mkdir()
    monkeypatch.chdir(world / "my_project" / "empty")
    for out, message in ((".", "empty: is the working directory"),
                         ("..", "my_project: contains the working directory")):
        assert main([*build, out]) == 2
        assert message in capsys.readouterr().err
    rec = Recommender.load(small_demo_artifact)
    with pytest.raises(RefusedFolderError, match="somewhere: exists and is not a shopgraph"):
        rec.save(world / "somewhere")
    assert destroyed(before, world) == []
    assert sorted(p.name for p in world.iterdir()) == ["my_project", "project", "somewhere"]


def test_shopgraphs_own_folders_are_replaced(world: Path, capsys,
                                             small_demo_artifact: Path) -> None:
    from recommend.recommender import Recommender

    data, art = world / "project" / "data", world / "project" / "art"
    for _ in range(2):  # the second build replaces the first one's artifact
        assert main(["build", str(data), "--graph-only", "--out", str(art)]) == 0
    (world / "empty").mkdir()  # an empty folder is fine
    rec = Recommender.load(small_demo_artifact)
    for _ in range(2):
        rec.save(world / "empty")
    assert load_artifact(world / "empty").graph == rec.graph
    again = Recommender.load(world / "empty")  # saved back onto the folder it was loaded from
    again.save(again.folder)  # type: ignore[arg-type]
    assert Recommender.load(world / "empty").recommend("u0001", k=3, explain=False)
    assert main(["import", "demo", "--out", str(art), "--no-images"]) == 2
    assert "is a shopgraph artifact, not a dataset" in capsys.readouterr().err
    (art / "mine.txt").write_text("added by hand")
    assert main(["build", str(data), "--graph-only", "--out", str(art)]) == 2
    assert "holds 1 file(s) shopgraph did not write (mine.txt)" in capsys.readouterr().err
    assert (art / "mine.txt").read_text() == "added by hand"


def test_a_busy_out_folder_fails_cleanly_with_exit_1(world: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(kg.atomic, "LOCK_TIMEOUT", 0.2)
    art = world / "art"
    with folder_lock(art):
        code = main(["build", str(world / "project" / "data"), "--graph-only", "--out", str(art)])
    err = capsys.readouterr().err
    assert code == 1 and "art: another shopgraph process is writing it" in err
    assert "Traceback" not in err and not art.exists()


def test_two_builds_into_one_folder_take_turns(world: Path) -> None:
    art = world / "art"
    argv = [sys.executable, "-m", "scripts.cli", "build", str(world / "project" / "data"),
            "--graph-only", "--out", str(art)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert load_artifact(art).graph.summary().nodes["user"] == 2
    assert sorted(p.name for p in world.iterdir()) == [".art.lock", "art", "my_project",
                                                       "project", "somewhere"]


def test_output_files_are_never_replaced_without_overwrite(tmp_path) -> None:
    mine = tmp_path / "why.html"
    mine.write_text("my notes")
    with pytest.raises(RefusedFolderError, match="already exists"):
        check_new_file(mine)
    assert mine.read_text() == "my notes"
    assert check_new_file(mine, overwrite=True) == mine
    with pytest.raises(RefusedFolderError, match="is a folder"):
        check_new_file(tmp_path, overwrite=True)
    assert check_new_file(tmp_path / "new.html") == tmp_path / "new.html"


def test_demo_never_replaces_a_report_it_did_not_write(world: Path, capsys) -> None:
    """`demo --out DIR` wrote DIR/recommendations.html over whatever was there (a user's page
    of that name was lost); now only one the demo listed in DIR's stamp is replaced, and a
    folder shopgraph wrote as something else is refused, both before anything is written."""
    from kg.ownership import DEMO_KIND, check_listed_file, list_file

    mine = world / "my_project"
    (mine / "recommendations.html").write_text("<p>my page</p>")
    before = snapshot(world)
    assert main(["demo", "--out", str(mine), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "recommendations.html: exists and shopgraph did not write it" in err
    assert main(["build", str(world / "project" / "data"), "--graph-only", "--out",
                 str(world / "art")]) == 0
    before_art = snapshot(world / "art")
    assert main(["demo", "--out", str(world / "art"), "--no-progress"]) == 2
    assert "is a shopgraph artifact, not a demo" in capsys.readouterr().err
    assert snapshot(world / "art") == before_art
    assert destroyed(before, world) == [] and sorted(p.name for p in mine.iterdir()) == [
        "notes.txt", "recommendations.html"]
    ours = world / "demo-out" / "recommendations.html"  # what a run does around its report
    assert check_listed_file(ours, DEMO_KIND) == ours
    ours.parent.mkdir()
    list_file(ours, DEMO_KIND)
    ours.write_text("first run")
    assert check_listed_file(ours, DEMO_KIND) == ours  # its own: replaced by the next run
    (world / "demo-out" / "why.html").symlink_to(mine / "notes.txt")
    with pytest.raises(RefusedFolderError, match="did not write it"):
        check_listed_file(world / "demo-out" / "why.html", DEMO_KIND)
    from kg.ownership import ARTIFACT_KIND, DATASET_KIND, stamp
    from scripts.cmd_demo import _earlier_demo

    for name, kind in (("dataset", DATASET_KIND), ("artifact", ARTIFACT_KIND)):
        (world / "old-demo" / name).mkdir(parents=True)
        stamp(world / "old-demo" / name, kind)  # a demo folder from before the stamp
    assert _earlier_demo(world / "old-demo") and not _earlier_demo(mine)


def test_an_output_file_is_no_symlink_and_not_inside_an_artifact(world: Path, capsys) -> None:
    """A dangling symlink at --html was replaced by the page (exists() is False for it), and
    rdf/recommend output written into an artifact made it refuse to load (an unlisted file)."""
    data, art = world / "project" / "data", world / "art"
    assert main(["build", str(data), "--graph-only", "--out", str(art)]) == 0
    link = world / "why.html"
    link.symlink_to(world / "nowhere.html")
    with pytest.raises(RefusedFolderError, match="already exists"):
        check_new_file(link)
    assert check_new_file(link, overwrite=True) == link  # asked for: the link is replaced
    with pytest.raises(RefusedFolderError, match=r"inside .*art, a shopgraph artifact"):
        check_new_file(art / "why.html")
    assert main(["rdf", str(art), "--out", str(art / "graph.nt"), "--no-progress"]) == 2
    assert "a shopgraph artifact" in capsys.readouterr().err
    assert main(["rdf", str(art), "--out", str(link), "--no-progress"]) == 2
    assert link.is_symlink() and not (world / "nowhere.html").exists()
    assert load_artifact(art).graph.summary().nodes["user"] == 2  # still loads: nothing added


def test_fine_tuning_refuses_a_users_out_folder_before_training(world: Path, capsys) -> None:
    labelled = world / "labelled.csv"
    labelled.write_text("text,label\ngreat,positive\nawful,negative\nok,neutral\n")
    before = snapshot(world)
    assert main(["train-sentiment", str(labelled), "--fine-tune", "--out",
                 str(world / "my_project"), "--no-progress"]) == 2
    assert "my_project: exists and is not a shopgraph folder" in capsys.readouterr().err
    assert destroyed(before, world) == []


def test_serve_workers_never_remove_a_users_workers_folder(tmp_path: Path) -> None:
    """`serve --workers N --state DIR` removed DIR/.workers whole as a killed run's leftover,
    whatever it held; now only a folder holding just a server's sockets and metric files."""
    import socket

    from recommend.serve.workers import PRIVATE_DIR, _private_folder

    state = tmp_path / "state"
    (state / PRIVATE_DIR).mkdir(parents=True)
    (state / PRIVATE_DIR / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a folder this server made"):
        _private_folder(state)
    assert (state / PRIVATE_DIR / "mine.txt").read_text() == "keep me"
    left = tmp_path / "left"  # what a killed server leaves: its socket and metric files
    (left / PRIVATE_DIR / "metrics").mkdir(parents=True)
    (left / PRIVATE_DIR / "metrics" / "counter_1.db").write_bytes(b"x")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(left / PRIVATE_DIR / "writer.sock"))
    folder = _private_folder(left)
    assert folder.is_dir() and list(folder.iterdir()) == []
