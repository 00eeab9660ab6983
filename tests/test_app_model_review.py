"""AppTest: the Evaluate page's leaderboard and possible label errors on a visitor's
upload (two predictions files, a detector without weights), read from the stored report:
no model runs."""

from __future__ import annotations

import pytest

from components.evaluate.label_issue_views import CAVEAT
from components.shared import cache
from tests.helpers import open_view
from tests.test_evaluate_uploads_app import (  # noqa: F401  (env: a fixture)
    env,
    evaluate_page,
    texts,
    upload_dataset,
    upload_predictions,
)
from tests.upload_builders import (
    coco_archive,
    coco_subset,
    jittered_predictions,
    pycocotools_stats,
)


@pytest.fixture
def reviewed(env):  # noqa: F811
    subset = coco_subset(8)
    at = evaluate_page()
    upload_dataset(at, "mini.zip", coco_archive(8))
    at.multiselect(key="evaluate_detectors").set_value(["yolov8s"]).run()
    at.toggle(key="evaluate_with_classifier").set_value(False).run()
    upload_predictions(
        at,
        ("a.json", jittered_predictions(subset, 0)),
        ("b.json", jittered_predictions(subset, 1)),
    )
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    return at, subset


def test_leaderboard_lists_every_file_and_the_detector_without_weights(reviewed):
    at, subset = reviewed
    open_view(at, "Model review", "Leaderboard")
    board = next(df.value for df in at.dataframe if "AP (%)" in df.value.columns)
    rows = board.set_index("model")
    assert set(rows.index[:2]) == {"a.json", "b.json"} and rows.index[2] == "yolov8s"
    assert rows["AP (%)"].iloc[0] >= rows["AP (%)"].iloc[1]  # best first
    for name, seed in (("a.json", 0), ("b.json", 1)):
        stats = pycocotools_stats(subset, jittered_predictions(subset, seed))
        assert rows.loc[name, "AP (%)"] == pytest.approx(100 * stats[0], abs=1e-6)
        assert rows.loc[name, "AR100 (%)"] == pytest.approx(100 * stats[8], abs=1e-6)
    assert rows.loc["yolov8s", "status"] == "no weights here"  # short for UNAVAILABLE
    assert rows.loc["yolov8s", "published (%)"] == 44.9
    # Predictions files carry no time per image: no chart, and the page says why.
    assert "accuracy-versus-latency chart needs a detector" in texts(at)
    assert "timed on" not in rows.columns  # said once, in the caption


def test_label_errors_follow_the_sliders_without_a_model(reviewed):
    at, _ = reviewed
    open_view(at, "Model review", "Possible label errors")
    loads = dict(cache.LOAD_COUNTS)
    assert CAVEAT in texts(at)
    table = next(df.value for df in at.dataframe if "label quality" in df.value.columns)
    assert table["label quality"].is_monotonic_increasing and len(table)
    assert at.selectbox(key="evaluate_li_image").options[0] == table["image"].iloc[0]
    summary = next(m.value for m in at.markdown if "have a flagged box" in m.value)
    at.slider(key="evaluate_li_high").set_value(0.5).run()
    assert not at.exception
    lower = next(m.value for m in at.markdown if "have a flagged box" in m.value)
    assert lower != summary  # more of the model's boxes reach the lower score
    at.multiselect(key="evaluate_li_kinds").set_value(["badly placed box"]).run()
    assert not at.exception
    only = next(df.value for df in at.dataframe if "label quality" in df.value.columns)
    assert len(only) and only["kinds"].str.contains("badly placed box").all()
    at.selectbox(key="evaluate_li_source").set_value("b.json").run()
    assert not at.exception and len(at.image) >= 1
    assert "evaluate_dl_label_issues" in [b.key for b in at.get("download_button")]
    assert dict(cache.LOAD_COUNTS) == loads


def test_detectors_without_weights_and_nothing_else_give_the_message(env):  # noqa: F811
    at = evaluate_page()
    at.selectbox(key="evaluate_dataset").set_value("coco-val2017-first32").run()
    at.multiselect(key="evaluate_detectors").set_value(["yolov8s", "yolov8m"]).run()
    at.button(key="evaluate_run").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("The evaluation could not run: Weights 'yolov8m.pt'")


def test_leaderboard_scores_the_classifiers_picked_once_each(env, monkeypatch):  # noqa: F811
    from components.evaluate.leaderboard_views import PICKED
    from model_zoo.weights import ENV_VAR
    from tests.test_classifier_leaderboard import (
        BUNDLED,
        NO_WEIGHTS,
        RANDOM,
        independent_tagging_map,
        random_weights_folder,
        stored_run,
    )
    from visioncompare.datasets.registry import load_bundled

    monkeypatch.setenv(ENV_VAR, str(random_weights_folder(env / "weights")))
    at = evaluate_page()
    at.selectbox(key="evaluate_dataset").set_value("coco-val2017-first32").run()
    at.multiselect(key="evaluate_detectors").set_value(["yolov8n-int8"]).run()
    at.toggle(key="evaluate_with_classifier").set_value(True).run()
    at.button(key="evaluate_run").click().run()
    assert not at.exception and not at.error, texts(at)
    open_view(at, "Model review", "Leaderboard")
    assert at.multiselect(key=PICKED).value == [BUNDLED]  # the run's own, at first
    at.multiselect(key=PICKED).set_value([BUNDLED, RANDOM, NO_WEIGHTS]).run()
    at.button(key="evaluate_lb_score").click().run()  # RANDOM is not stored yet
    assert not at.exception and not at.error, texts(at)
    board = next(df.value for df in at.dataframe if "tagging mAP (%)" in df.value)
    rows = board.set_index("model")
    scored = sorted([BUNDLED, RANDOM], key=lambda n: -rows.loc[n, "tagging mAP (%)"])
    assert list(rows.index) == [*scored, NO_WEIGHTS]  # best first, no weights last
    dataset = load_bundled("coco-val2017-first32")
    for name in (BUNDLED, RANDOM):
        probabilities, names = stored_run(name, dataset, env / "runs")
        assert rows.loc[name, "tagging mAP (%)"] == pytest.approx(
            100 * independent_tagging_map(dataset, probabilities, names), abs=1e-9
        )
    assert rows.loc[NO_WEIGHTS, "status"] == "no weights here"
    assert rows.loc[NO_WEIGHTS, ["tagging mAP (%)"]].isna().all()
    # Closed and opened again: the picks are kept and nothing is loaded or run again.
    loads = dict(cache.LOAD_COUNTS)
    open_view(at, "Summary")
    open_view(at, "Model review", "Leaderboard")
    assert at.multiselect(key=PICKED).value == [BUNDLED, RANDOM, NO_WEIGHTS]
    again = next(df.value for df in at.dataframe if "tagging mAP (%)" in df.value)
    assert again.equals(board) and dict(cache.LOAD_COUNTS) == loads
    assert "evaluate_lb_score" not in [b.key for b in at.button]
