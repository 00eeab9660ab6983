"""AppTest: a visitor's own dataset and predictions on the Evaluate page, each session
in its own folder; server folders only under the operator's roots."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from streamlit.runtime import caching
from streamlit.testing.v1 import AppTest

from components.shared.controls import SERVER_FOLDER, UPLOAD_DATASET
from tests.conftest import REPO, SESSION_IDS, apptest_session_id
from tests.helpers import open_view
from tests.test_archives import make_zip
from tests.upload_builders import (
    coco_archive,
    coco_subset,
    jittered_predictions,
    pycocotools_stats,
)
from visioncompare.datasets.roots import REFUSED
from visioncompare.evaluation.session_files import server_folder


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Temporary runs and uploads folders and no data roots; the sessions of the test's
    AppTests (each its own: ``tests.conftest``) end with it."""
    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("VISIONCOMPARE_UPLOADS_DIR", str(tmp_path / "uploads"))
    monkeypatch.delenv("VISIONCOMPARE_DATA_ROOTS", raising=False)
    before = set(SESSION_IDS.values())
    yield tmp_path
    for session_id in set(SESSION_IDS.values()) - before:
        caching.clear_session_resource_cache(session_id)


def evaluate_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
    at.switch_page("pages/evaluate.py").run()
    return at


def upload_dataset(at: AppTest, name: str, data: bytes, kind="application/zip"):
    at.selectbox(key="evaluate_dataset").set_value(UPLOAD_DATASET).run()
    at.file_uploader(key="evaluate_dataset_upload").set_value((name, data, kind)).run()


def upload_predictions(at: AppTest, *files: tuple[str, list | bytes]):
    values = [
        (n, p if isinstance(p, bytes) else json.dumps(p).encode(), "application/json")
        for n, p in files
    ]
    at.file_uploader(key="evaluate_predictions_upload").set_value(values).run()


def sessions(env) -> list[str]:
    folder = server_folder(env / "uploads")
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def texts(at: AppTest) -> str:
    return "\n".join(
        str(e.value) for kind in ("error", "warning", "info", "caption", "markdown")
        for e in at.get(kind)
    )  # fmt: skip


def test_without_roots_no_server_folder_choice(env):
    at = evaluate_page()
    assert SERVER_FOLDER not in at.selectbox(key="evaluate_dataset").options
    assert not at.exception


def test_roots_confine_typed_paths(env, monkeypatch):
    (env / "shared").mkdir()
    monkeypatch.setenv("VISIONCOMPARE_DATA_ROOTS", str(env / "shared"))
    at = evaluate_page()
    at.selectbox(key="evaluate_dataset").set_value(SERVER_FOLDER).run()
    for typed in ("/etc/hostname", "/etc/no-such-file", str(env / "shared/../runs")):
        at.text_input(key="evaluate_folder").set_value(typed).run()
        assert [e.value for e in at.error] == [
            f"This path cannot be opened: {REFUSED}."
        ]
    assert not at.exception


def test_a_coco_json_at_the_top_of_a_root_finds_its_images_inside_it(env, monkeypatch):
    """Images are looked for beside the JSON's folder too (``../images``): at the top of
    a data root that folder lies outside it, and is passed over, not read."""
    import shutil

    from tests.upload_builders import COCO_SUBSET

    root, outside = env / "shared", env / "images"
    subset = coco_subset(3)
    for folder in (root / "images", outside):
        folder.mkdir(parents=True)
        for image in subset["images"]:
            shutil.copy(COCO_SUBSET / "val2017" / image["file_name"], folder)
    (root / "mine.json").write_text(json.dumps(subset))
    monkeypatch.setenv("VISIONCOMPARE_DATA_ROOTS", str(root))
    at = evaluate_page()
    at.selectbox(key="evaluate_dataset").set_value(SERVER_FOLDER).run()
    at.text_input(key="evaluate_folder").set_value("mine.json").run()
    assert not at.exception and not at.error, texts(at)
    assert "3 images" in texts(at)


def test_the_server_folder_box_names_its_roots_and_never_shows_their_paths(
    env, monkeypatch
):
    """Issue #24: the box's label, placeholder and help name each root by the name the
    operator gave it (or its last folder), never by its server path; visitors type paths
    relative to the chosen root, and an absolute path gets the one refusal."""
    import os
    import shutil

    from tests.upload_builders import COCO_SUBSET

    coco, more = env / "srv" / "coco-sets", env / "srv" / "more"
    subset = coco_subset(3)
    (coco / "images").mkdir(parents=True)
    (more / "nested").mkdir(parents=True)
    for image in subset["images"]:
        shutil.copy(COCO_SUBSET / "val2017" / image["file_name"], coco / "images")
    (coco / "mine.json").write_text(json.dumps(subset))
    (more / "nested" / "theirs.json").write_text(json.dumps(subset))
    roots = os.pathsep.join([f"COCO sets={coco}", str(more)])
    monkeypatch.setenv("VISIONCOMPARE_DATA_ROOTS", roots)
    at = evaluate_page()
    at.selectbox(key="evaluate_dataset").set_value(SERVER_FOLDER).run()

    def shown() -> list[str]:
        box, pick = at.text_input(key="evaluate_folder"), at.selectbox(key="evaluate_root")
        return [box.label, box.placeholder, box.help, pick.label, pick.help,
                *pick.options, texts(at)]  # fmt: skip

    assert at.selectbox(key="evaluate_root").options == ["COCO sets", "more"]
    assert at.text_input(key="evaluate_folder").label == "Dataset path inside COCO sets"
    assert not [t for t in shown() if str(env) in t or "/srv" in t], shown()
    at.text_input(key="evaluate_folder").set_value("mine.json").run()
    assert not at.exception and not at.error, texts(at)
    assert "3 images" in texts(at)
    at.selectbox(key="evaluate_root").set_value("more").run()
    assert "Dataset path inside more" in shown()
    at.text_input(key="evaluate_folder").set_value(str(coco / "mine.json")).run()
    assert [e.value for e in at.error] == [f"This path cannot be opened: {REFUSED}."]
    at.text_input(key="evaluate_folder").set_value("../../etc/hostname").run()
    assert [e.value for e in at.error] == [f"This path cannot be opened: {REFUSED}."]
    assert not [t for t in shown() if str(env) in t], shown()
    assert not at.exception


def test_upload_dataset_and_predictions_reach_the_summary_cards(env):
    subset = coco_subset(8)
    predictions = jittered_predictions(subset)
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(8))
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    upload_predictions(at, ("predictions.json", predictions))
    assert not at.exception and not at.error
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    cards = {m.label: m.value for m in at.metric}
    assert cards["Images / boxes"] == f"8 / {len(subset['annotations'])}"
    (results,) = at.session_state["evaluate_reports"].values()
    (report,) = results
    assert report.source == "predictions.json"
    expected = pycocotools_stats(subset, predictions)
    np.testing.assert_allclose(list(report.coco.stats.values()), expected, atol=1e-9)
    assert cards["mAP50-95"] == f"{expected[0]:.3f}"
    assert any("predictions.json on" in h.value for h in at.subheader)
    # No server path anywhere on the page.
    assert str(env) not in texts(at)


def test_annotations_alone_draw_on_a_blank_canvas(env):
    subset = coco_subset(4)
    at = evaluate_page()
    upload_dataset(
        at, "instances.json", json.dumps(subset).encode(), "application/json"
    )
    upload_predictions(at, ("preds.json", jittered_predictions(subset, seed=1)))
    assert "has annotations but no images" in texts(at)
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    open_view(at, "Errors", "Error browser")
    assert any("blank canvas of the annotated size" in c.value for c in at.caption)


def test_a_malformed_predictions_file_names_the_entry_and_field(env):
    subset = coco_subset(4)
    broken = jittered_predictions(subset)
    del broken[2]["score"]
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(4))
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    upload_predictions(at, ("bad.json", broken))
    at.button(key="evaluate_run").click().run()
    assert not at.exception
    (error,) = at.error
    assert "bad.json: entry 2: missing field 'score'" in error.value
    assert str(env) not in error.value


def test_a_nested_latin1_or_string_typed_predictions_file_is_a_message(env):
    """Issue #24: 200 KB of nested brackets, a Latin-1 file and a string image id each
    give a message naming the upload and the problem, not Streamlit's error."""
    subset = coco_subset(4)
    good = jittered_predictions(subset)
    latin1 = json.dumps([good[0], {**good[1], "note": "café"}], ensure_ascii=False)
    quoted = [{**good[0], "image_id": str(good[0]["image_id"])}]
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(4))
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    for name, data, expected in [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "deep.json: nested 100000 levels"),
        ("latin.json", latin1.encode("latin-1"), "latin.json: not UTF-8 text (byte 0xe9"),
        ("quoted.json", json.dumps(quoted).encode(),
         "quoted.json: entry 0: field 'image_id' should be an integer id, got the string"),
    ]:  # fmt: skip
        upload_predictions(at, (name, data))
        at.button(key="evaluate_run").click().run()
        assert not at.exception, name
        (error,) = at.error
        assert expected in error.value, error.value
        assert str(env) not in error.value


def test_a_hostile_archive_gets_its_message(env):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.txt", "x")
    at = evaluate_page()
    upload_dataset(at, "evil.zip", buffer.getvalue())
    assert not at.exception
    (error,) = at.error
    assert "../../escape.txt" in error.value and "'..'" in error.value
    assert str(env) not in error.value
    assert (
        not (env / "escape.txt").exists() and not (env / "uploads/escape.txt").exists()
    )


def _runs(path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT key FROM runs")]


def test_two_sessions_never_see_each_others_data(env):
    subset = coco_subset(6)
    a = evaluate_page()
    upload_dataset(a, "mine.zip", coco_archive(6))
    a.button(key="evaluate_run").click().run()  # the bundled models, on A's images
    assert not a.exception and not a.error, texts(a)
    (folder_a,) = sessions(env)

    b = evaluate_page()
    upload_dataset(b, "mine.zip", coco_archive(6))  # the same archive, another visitor
    b.toggle(key="evaluate_with_classifier").set_value(False).run()
    folder_b = next(s for s in sessions(env) if s != folder_a)
    # B's copy is its own, and A's stored predictions are not offered to B.
    assert b.button(key="evaluate_run").label == "Evaluate"
    assert (
        "evaluate_reports" not in b.session_state
        or not b.session_state["evaluate_reports"]
    )
    # A's predictions live in A's folder only, never in the shared store.
    uploads = server_folder(env / "uploads")
    assert len(_runs(uploads / folder_a / "predictions.sqlite")) == 2
    # The classifier's probabilities are read back from A's own store.
    open_view(a, "Side by side", "Classification vs detection")
    assert "stored predictions are not available" not in texts(a)
    assert any(r.key == "evaluate_tagimg_case" for r in a.radio)
    assert not _runs(env / "runs" / "predictions.sqlite")
    assert not (uploads / folder_b / "predictions.sqlite").exists() or not _runs(
        uploads / folder_b / "predictions.sqlite"
    )
    # Predictions uploaded by B: only B's page and folder know them.
    upload_predictions(b, ("theirs.json", jittered_predictions(subset, seed=3)))
    assert list((uploads / folder_b / "predictions").iterdir())
    assert not (uploads / folder_a / "predictions").exists()
    a.run()
    assert "theirs.json" not in texts(a)
    (keys_a,) = a.session_state["evaluate_reports"]
    assert all(str(uploads / folder_a) in str(k) for k in keys_a if "/" in str(k))
    assert all(folder_b not in str(k) for k in keys_a)
    # Different uploads: each page shows its own dataset only.
    upload_dataset(b, "other.zip", coco_archive(3, name="other"))
    assert "3 images" in texts(b) and "instances_other" in texts(b)
    a.run()
    assert "instances_other" not in texts(a)
    assert {m.label: m.value for m in a.metric}["Images / boxes"].startswith("6 / ")


def test_the_session_folder_goes_when_the_session_ends(env):
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(2))
    (folder,) = sessions(env)
    assert any((server_folder(env / "uploads") / folder).rglob("*.jpg"))
    # What Streamlit does when a session disconnects or shuts down.
    caching.clear_session_resource_cache(apptest_session_id(at))
    assert sessions(env) == []


def test_a_sessions_reports_and_their_views_go_when_the_session_ends(env):
    """Issue #24: an uploaded file's reports live in the session, not server-wide, and
    the views computed from them (per-image table, best thresholds, label issues,
    downloads) go with it; nothing is left holding the report."""
    import gc

    from components.shared.cache import REPORT_VIEWS
    from visioncompare.services.report import EvaluationReport

    subset = coco_subset(6)
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(6, with_images=False))
    upload_predictions(at, ("released.json", jittered_predictions(subset, seed=5)))
    at.button(key="evaluate_run").click().run()
    for group, view in [("Per image", None), ("Summary", "Best threshold"),
                        ("Errors", "Error types"), ("Model review", "Possible label errors"),
                        ("Downloads", None)]:  # fmt: skip
        open_view(at, group, view)
        assert not at.exception and not at.error, texts(at)
    session_id = apptest_session_id(at)

    def held() -> tuple[list[str], int]:
        """The session's keys in the views cache, and its reports still alive."""
        gc.collect()
        views = [k for k in REPORT_VIEWS._items if k.startswith(f"{session_id}/")]
        return views, sum(isinstance(o, EvaluationReport) and o.source == "released.json"
                          for o in gc.get_objects())  # fmt: skip

    views, reports = held()
    assert len(views) >= 4 and reports == 1
    assert any("label_issues:" in k for k in views), views
    assert len(at.session_state["evaluate_reports"]) == 1
    caching.clear_session_resource_cache(session_id)  # the tab disconnects
    assert held() == ([], 0)
    assert not at.session_state["evaluate_reports"]


def test_two_predictions_files_side_by_side(env):
    subset = coco_subset(5)
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(5, with_images=False))
    first, second = (jittered_predictions(subset, seed=s) for s in (1, 2))
    upload_predictions(at, ("predictions.json", first), ("predictions.json", second))
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    (results,) = at.session_state["evaluate_reports"].values()
    assert [r.source for r in results] == ["predictions.json", "predictions.json (2)"]
    for report, predictions in zip(results, (first, second)):
        expected = pycocotools_stats(subset, predictions)
        np.testing.assert_allclose(
            list(report.coco.stats.values()), expected, atol=1e-9
        )
    open_view(at, "Side by side")
    assert "Two detectors" in [t.label for t in at.tabs]


def test_a_nested_archive_is_named_when_no_dataset_is_found(env):
    at = evaluate_page()
    upload_dataset(at, "outer.zip", make_zip({"inner.zip": coco_archive(2)}))
    assert not at.exception
    (error,) = at.error
    assert "not a COCO" in error.value and "another archive (inner.zip)" in error.value
    assert str(env) not in error.value


def test_an_image_path_leading_outside_the_upload_is_refused(env):
    from tests.test_archives import coco

    at = evaluate_page()
    data = make_zip({"set/annotations/i.json": coco("../../../../../../etc/hostname")})
    upload_dataset(at, "set.zip", data)
    assert not at.exception
    (error,) = at.error
    assert "outside the dataset's folder" in error.value
    assert str(env) not in error.value
    assert not at.metric and not at.get("imgs")


@pytest.mark.parametrize("fmt", ["kitti", "cityscapes", "openimages"])
def test_an_uploaded_kitti_cityscapes_or_open_images_archive_scores_like_pycocotools(
    env, fmt
):
    """The newer layouts arrive as archives like any other: unpacked, recognised, and
    their ignore regions scored as pycocotools scores crowd boxes."""
    from tests.test_datasets_kitti_cityscapes_openimages import (
        WRITERS,
        by_name,
        reference_coco,
        results_for,
    )
    from visioncompare.datasets.registry import load_folder

    root = env / "fixture" / fmt
    WRITERS[fmt](root)
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    image_ids = [s.image_id for s in load_folder(root).samples]
    reference = reference_coco(fmt, image_ids)
    results = results_for(reference)
    at = evaluate_page()
    upload_dataset(at, f"{fmt}.zip", make_zip(files))
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    upload_predictions(at, ("results.json", by_name(reference, results)))
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    (results_run,) = at.session_state["evaluate_reports"].values()
    (report,) = results_run
    assert report.dataset.format == fmt
    captions = [c.value for c in at.caption]
    assert all(note in captions for note in report.dataset.notes)  # ignore regions, ...
    expected = pycocotools_stats(reference, results)
    np.testing.assert_allclose(list(report.coco.stats.values()), expected, atol=1e-9)


def test_a_kitti_upload_is_scored_at_the_chosen_difficulty(env):
    """The KITTI difficulty box rescoring the same stored predictions: at ``easy`` the
    numbers are pycocotools' with the harder boxes as crowd, and back at every box they
    are the full set's again."""
    from tests.test_datasets_kitti_cityscapes_openimages import (
        WRITERS,
        by_name,
        kitti_easy_reference,
        reference_coco,
        results_for,
    )
    from visioncompare.datasets.registry import load_folder

    root = env / "fixture" / "kitti"
    WRITERS["kitti"](root)
    files = {p.relative_to(root).as_posix(): p.read_bytes()
             for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip
    image_ids = [s.image_id for s in load_folder(root).samples]
    every, easy = reference_coco("kitti", image_ids), kitti_easy_reference(image_ids)
    results = results_for(every)
    at = evaluate_page()
    upload_dataset(at, "kitti.zip", make_zip(files))
    at.multiselect(key="evaluate_detectors").set_value([]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    upload_predictions(at, ("results.json", by_name(every, results)))
    at.button(key="evaluate_run").click().run()
    difficulty = at.selectbox(key="evaluate_kitti_difficulty")
    assert difficulty.value is None
    assert list(difficulty.options) == [
        # 8 objects and one ignore region; a car 40 px tall is too small for easy.
        "every box (8 scored)", "easy (7 boxes scored)", "moderate (8 boxes scored)",
        "hard (8 boxes scored)",
    ]  # fmt: skip
    difficulty.set_value("easy").run()
    assert not at.exception and not at.error, texts(at)
    reports = at.session_state["evaluate_reports"]
    (report,) = [r for key, (r,) in reports.items() if key[1] == "easy"]
    assert any("Scored at KITTI difficulty easy" in c.value for c in at.caption)
    np.testing.assert_allclose(
        list(report.coco.stats.values()), pycocotools_stats(easy, results), atol=1e-9
    )
    reports.clear()  # back at every box, the page evaluates again
    at.selectbox(key="evaluate_kitti_difficulty").set_value(None).run()
    (full,) = [r for key, (r,) in at.session_state["evaluate_reports"].items()]
    assert not full.dataset.scored_as and full.dataset.notes == report.dataset.notes[:-1]
    np.testing.assert_allclose(
        list(full.coco.stats.values()), pycocotools_stats(every, results), atol=1e-9
    )
