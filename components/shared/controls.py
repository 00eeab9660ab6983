"""Widgets. Each ``*_ui()`` helper draws its widgets and returns plain values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.shared import cache
from components.shared.server_folder import server_folder_ui
from components.shared.titles import BUNDLED_TITLES, model_title
from components.shared.warmup import DEFAULT_CLASSIFIER, DEFAULT_DETECTOR
from model_zoo import Task, list_models
from model_zoo.device import available_devices
from model_zoo.identity import weights_on_disk
from model_zoo.operator_settings import Availability, availability, downloads_allowed
from model_zoo.registry import ModelSpec
from visioncompare.datasets.archives import ArchiveError
from visioncompare.datasets.roots import named_roots
from visioncompare.evaluation.session_files import (
    DatasetUpload,
    SessionFiles,
    UploadError,
    max_upload_bytes,
    store_dataset_upload,
    store_predictions_upload,
    visitor_text,
)
from visioncompare.kernel.display import parse_vocabulary
from visioncompare.kernel.images import UPLOAD_EXTENSIONS
from visioncompare.kernel.sample_images import list_demo_images

DEFAULT_VOCABULARY = "person, bus, traffic light, dog"
PICKER_KEYS = {Task.CLASSIFY: "app_classifier", Task.DETECT: "app_detector"}
"""The sidebar's model pickers by task (a page may set one before it is drawn)."""


@dataclass(frozen=True)
class SharedChoice:
    """The sidebar choices every page shares."""

    classifier: str
    detector: str
    device: str


@dataclass(frozen=True)
class ImageInput:
    """One image the user asked for, still undecoded."""

    name: str
    data: bytes
    caption: str = ""


def _availability(spec: ModelSpec) -> str:
    """Empty when the weights are on this machine, else " (download)",
    " (not installed)" (the operator allows no downloads) or " (missing)"."""
    found = availability(weights_on_disk(spec), spec.downloadable)
    return "" if found is Availability.INSTALLED else f" ({AVAILABILITY_MARK[found]})"


AVAILABILITY_HELP = (
    "(download): no weights on this server yet; its library fetches them on first use, "
    "which needs the internet. (not installed): this server does not download weights; "
    "ask its operator to put them in its weights folder. (missing): no weights and "
    "no known download."
)
AVAILABILITY_MARK = {
    Availability.DOWNLOADABLE: "download",
    Availability.NOT_INSTALLED: "not installed",
    Availability.MISSING: "missing",
}


def _model_picker(label: str, task: Task, default: str, key: str) -> str:
    specs = {s.name: s for s in list_models(task)}
    names = list(specs)

    def label_of(name: str) -> str:
        return specs[name].title + _availability(specs[name])

    return st.selectbox(
        label,
        names,
        index=names.index(default) if default in names else 0,
        format_func=label_of,
        key=key,
        help=AVAILABILITY_HELP,
    )


def shared_sidebar_ui() -> SharedChoice:
    """Device and model pickers, drawn once in the router frame for every page."""
    with st.sidebar:
        st.subheader("Models")
        classifier = _model_picker(
            "Classifier (torchvision)",
            Task.CLASSIFY,
            DEFAULT_CLASSIFIER,
            PICKER_KEYS[Task.CLASSIFY],
        )
        detector = _model_picker(
            "Detector", Task.DETECT, DEFAULT_DETECTOR, PICKER_KEYS[Task.DETECT]
        )
        device = st.selectbox(
            "Device",
            ["auto", *available_devices()],
            key="app_device",
            help="auto: CUDA, then Apple MPS, then CPU. fp16 is used on CUDA.",
        )
    choice = SharedChoice(classifier, detector, device)
    st.session_state["shared_choice"] = choice
    return choice


def shared_choice() -> SharedChoice:
    """What the router's sidebar chose on this run (defaults if a page runs alone)."""
    return st.session_state.get(
        "shared_choice", SharedChoice(DEFAULT_CLASSIFIER, DEFAULT_DETECTOR, "auto")
    )


def image_source_ui(prefix: str) -> list[ImageInput]:
    """Samples, uploads or a camera snapshot; a sample is selected on first load."""
    # One row (the source, then its picker) so the first results start on the first screen.
    left, right = st.columns([2, 5], vertical_alignment="bottom")
    with left:
        source = st.radio(
            "Images",
            ["Samples", "Upload", "Camera"],
            horizontal=True,
            key=f"{prefix}_source",
        )
    with right:
        return _images_from(source, prefix)


def _images_from(source: str, prefix: str) -> list[ImageInput]:
    if source == "Samples":
        demos = {d.name: d for d in list_demo_images()}
        picked = st.multiselect(
            "Bundled sample images",
            list(demos),
            default=list(demos)[:1],
            format_func=lambda n: demos[n].title,
            key=f"{prefix}_samples",
        )
        return [
            ImageInput(
                n, demos[n].path.read_bytes(), f"{demos[n].source} · {demos[n].licence}"
            )
            for n in picked
        ]
    if source == "Upload":
        files = st.file_uploader(
            "Upload images",
            type=list(UPLOAD_EXTENSIONS),
            accept_multiple_files=True,
            key=f"{prefix}_upload",
            help="JPEG, PNG, WebP, BMP, TIFF or GIF (its first frame), up to 25 MB each. "
            "Files are decoded as images only; nothing uploaded is ever executed.",
        )
        return [ImageInput(f.name, f.getvalue()) for f in files or []]
    shot = st.camera_input("Take a snapshot", key=f"{prefix}_camera")
    return [ImageInput("camera.jpg", shot.getvalue())] if shot is not None else []


def vocabulary_ui(prefix: str) -> tuple[str, ...]:
    """The classes an open-vocabulary detector looks for, as the user typed them."""
    with st.sidebar:
        text = st.text_input(
            "Classes to look for",
            DEFAULT_VOCABULARY,
            key=f"{prefix}_vocabulary",
            help="Separate classes with commas, e.g. 'traffic cone, red car, dog'. The "
            "open-vocabulary detector finds what you name; empty: its own classes.",
        )
    return parse_vocabulary(text)


@dataclass(frozen=True)
class CompareSettings:
    conf: float
    iou: float
    topk: int
    classes: tuple[str, ...] | None


def compare_settings_ui(
    prefix: str, detector_classes: tuple[str, ...], nms_free: bool = False
) -> CompareSettings:
    """Thresholds and filters of the Compare page (sliders never reload a model).

    For an NMS-free detector the NMS IoU slider is shown disabled: it has no effect.
    """
    with st.sidebar:
        st.subheader("Settings")
        conf = st.slider(
            "Detector confidence threshold", 0.01, 1.0, 0.25, 0.01, key=f"{prefix}_conf"
        )
        iou = st.slider(
            "NMS IoU threshold",
            0.10,
            0.95,
            0.70,
            0.05,
            key=f"{prefix}_iou",
            disabled=nms_free,
            help="This detector is end-to-end (NMS-free): it outputs its final boxes "
            "itself, so there is no NMS to tune."
            if nms_free
            else "Boxes of one class overlapping more than this are merged by NMS.",
        )
        topk = st.slider("Classifier top-k", 1, 10, 5, key=f"{prefix}_topk")
        classes = st.multiselect(
            "Show only these detector classes",
            list(detector_classes),
            key=f"{prefix}_classes",
            placeholder="All classes",
        )
    return CompareSettings(conf, iou, topk, tuple(classes) or None)


BUNDLED_LABELS = BUNDLED_TITLES
UPLOAD_DATASET = "Upload a dataset…"
SERVER_FOLDER = "Folder on the server…"
DATASET_UPLOAD_TYPES = ("zip", "tar", "tgz", "gz", "json")


@dataclass(frozen=True)
class PredictionsFile:
    """An uploaded COCO results file, placed in the session's folder."""

    name: str
    path: Path


@dataclass(frozen=True)
class EvaluateChoice:
    """What the Evaluate page evaluates.

    Attributes:
        dataset: a bundled subset's name, or the path of a dataset on this server (an
            upload in the session's folder, or a folder under the data roots).
        detectors: zoo detectors (any number, with ``predictions``).
        classifier: the classifier to score as a tagger, or None.
        predictions: uploaded predictions files, evaluated like detectors.
        folder: where every file of the dataset must lie (the upload, or the data root);
            None for a bundled subset. Messages name files relative to it.
        files: the session's files when anything was uploaded (its own store).
        uploaded: the dataset is an upload of this session.
        nested: archives inside the uploaded archive (not unpacked).
    """

    dataset: str
    detectors: tuple[str, ...]
    classifier: str | None
    predictions: tuple[PredictionsFile, ...] = ()
    folder: Path | None = None
    files: SessionFiles | None = None
    uploaded: bool = False
    nested: tuple[str, ...] = ()

    def shown(self, error: Exception | str) -> str:
        """An error's message as a visitor may see it: no server path, uploads named as
        their visitor named them."""
        text = str(error)
        names = {p.path: p.name for p in self.predictions}
        if self.folder is not None:
            text = visitor_text(text, self.folder, names)
        if self.files is not None:
            text = visitor_text(text, self.files.folder, names)
        if self.nested and "not a COCO" in text:
            text += (
                f" The archive holds another archive ({', '.join(self.nested)}), which "
                "is not unpacked: upload that archive itself."
            )
        return text

    @property
    def sources(self) -> tuple[str, ...]:
        """What is evaluated, in order: the detectors, then the predictions files."""
        return (*self.detectors, *(p.name for p in self.predictions))


def _session_files() -> SessionFiles:
    ctx = get_script_run_ctx()
    return cache.session_files(ctx.session_id if ctx else "local")


T = TypeVar("T")


def _placed(upload, place: Callable[[], T], present: Callable[[T], bool]) -> T:
    """``place()`` (an upload checked, hashed and written to the session's folder) once
    per uploaded file, not on every rerun: for a 25 MB file that costs more than the rest
    of a slider's rerun. Placed again when its files are gone (the folder was released)."""
    placed = st.session_state.setdefault("_uploads_placed", {})
    hit = placed.get(upload.file_id)
    if hit is None or not present(hit):
        hit = placed[upload.file_id] = place()
    return hit


def _dataset_upload_ui(prefix: str) -> tuple[DatasetUpload, SessionFiles] | None:
    """An uploaded dataset archive or COCO JSON, unpacked in the session's folder (None
    until one is uploaded, or when it is refused: the message is shown)."""
    limit = max_upload_bytes()
    upload = st.file_uploader(
        "Dataset archive or COCO annotations",
        type=list(DATASET_UPLOAD_TYPES),
        key=f"{prefix}_dataset_upload",
        max_upload_size=max(1, limit // 2**20),
        help="A .zip, .tar or .tar.gz in COCO (annotations/*.json with the images), "
        "VOC (Annotations/ and JPEGImages/), YOLO (data.yaml), KITTI (label_2/ and "
        "image_2/), Cityscapes (gtFine/ and leftImg8bit/) or Open Images (the box and "
        "class-description CSVs with images/) layout, or a COCO annotations .json alone: "
        "metrics need no images. Unpacked in a temporary folder of your own, removed when "
        "you leave.",
    )
    if upload is None:
        st.info(
            "Upload a dataset archive (COCO, VOC, YOLO, KITTI, Cityscapes or Open Images "
            "layout), or a COCO annotations .json."
        )
        return None
    files = _session_files()
    try:
        return _placed(
            upload,
            lambda: store_dataset_upload(files.folder, upload.name, upload.getvalue()),
            lambda placed: placed.path.exists(),
        ), files
    except (ArchiveError, UploadError) as exc:
        st.error(f"This upload cannot be used: {visitor_text(str(exc), files.folder)}")
        return None


def predictions_upload_ui(prefix: str) -> tuple[PredictionsFile, ...]:
    """Uploaded COCO results files (any tool's), placed in the session's folder."""
    uploads = st.file_uploader(
        "Predictions files (COCO results .json)",
        type=["json"],
        accept_multiple_files=True,
        key=f"{prefix}_predictions_upload",
        max_upload_size=max(1, max_upload_bytes() // 2**20),
        help="A list of {image_id, category_id, bbox [x, y, w, h], score}: Ultralytics' "
        "predictions.json, Detectron2's or MMDetection's COCO results. Evaluated like "
        "a detector, next to one or on its own.",
    )
    if not uploads:
        return ()
    files = _session_files()
    out = []
    for upload in uploads:
        try:
            path = _placed(
                upload,
                lambda: store_predictions_upload(
                    files.folder, upload.name, upload.getvalue()
                ),
                Path.is_file,
            )
        except UploadError as exc:
            st.error(str(exc))
            continue
        name = upload.name
        if any(p.name == name for p in out):  # two files of one name: tell them apart
            name = f"{name} ({len(out) + 1})"
        out.append(PredictionsFile(name, path))
    return tuple(out)


def evaluate_inputs_ui(prefix: str, shared: SharedChoice) -> EvaluateChoice | None:
    """Dataset (a bundled subset, an upload, or a folder under the data roots), any
    number of detectors or uploaded predictions files, and the classifier option. None
    (with a message shown) until the dataset is chosen and readable."""
    roots = named_roots()
    left, right = st.columns([1, 1])
    with left:
        options = [
            *BUNDLED_LABELS,
            UPLOAD_DATASET,
            *([SERVER_FOLDER] if roots else []),  # no roots: no server paths at all
        ]
        picked = st.selectbox(
            "Dataset",
            options,
            format_func=lambda o: BUNDLED_LABELS.get(o, o),
            key=f"{prefix}_dataset",
        )
        dataset, folder, files, nested = picked, None, None, ()
        if picked == UPLOAD_DATASET:
            unpacked = _dataset_upload_ui(prefix)
            if unpacked is None:
                return None
            upload, files = unpacked
            dataset, folder, nested = str(upload.path), upload.folder, upload.nested
        elif picked == SERVER_FOLDER:
            typed = server_folder_ui(prefix, roots)
            if typed is None:
                return None
            path, folder = typed
            dataset = str(path)
    with right:
        specs = {s.name: s for s in list_models(Task.DETECT)}
        detectors = st.multiselect(
            "Detectors (several: a leaderboard)",
            list(specs),
            default=[shared.detector],
            select_all=False,  # most have no weights here: "all" would be mostly marks
            format_func=lambda name: specs[name].title + _availability(specs[name]),
            key=f"{prefix}_detectors",
            help=AVAILABILITY_HELP,
        )
        absent = [specs[d] for d in detectors if _availability(specs[d])]
        if absent:
            st.warning(download_warning(absent))
        predictions = predictions_upload_ui(prefix)
        if predictions and files is None:
            files = _session_files()
        with_classifier = st.toggle(
            "Also score the classifier as an image tagger",
            value=True,
            key=f"{prefix}_with_classifier",
            help=f"The sidebar's classifier, {model_title(shared.classifier)}.",
        )
    return EvaluateChoice(
        dataset,
        tuple(detectors),
        shared.classifier if with_classifier else None,
        predictions,
        folder,
        files,
        picked == UPLOAD_DATASET,
        nested,
    )


def download_warning(specs: list[ModelSpec]) -> str:
    """One sentence, before the run, for detectors whose weights are not on this machine."""
    files = ", ".join(f"{s.title} ({s.weights_file})" for s in specs)
    if not downloads_allowed():
        return (
            f"No weights on this machine for {files}, and this server does not download "
            "weights: ask its operator to install them, or pick a model without a mark."
        )
    return (
        f"No weights on this machine for {files}: Evaluate first downloads them, which "
        "needs the internet (offline, put the files in model_zoo/weights/ or pick a model "
        "without a mark)."
    )


def thresholds_ui(prefix: str, conf: float, iou: float) -> tuple[float, float]:
    """The threshold explorer's confidence and IoU sliders, starting at the report's
    operating point; IoU moves over COCO's ten thresholds 0.50:0.05:0.95 (the matches
    the evaluation kept)."""
    left, right = st.columns(2)
    with left:
        conf = st.slider(
            "Confidence threshold", 0.05, 0.95, conf, 0.05, key=f"{prefix}_conf"
        )
    with right:
        iou = st.slider("IoU threshold", 0.5, 0.95, iou, 0.05, key=f"{prefix}_iou")
    return conf, iou


def detector_thresholds_ui(
    prefix: str, detector_classes: tuple[str, ...]
) -> tuple[float, float, tuple[str, ...] | None]:
    """The detector's confidence and NMS IoU sliders and a class filter (None: all)."""
    conf = st.slider(
        "Detector confidence threshold", 0.05, 1.0, 0.25, 0.05, key=f"{prefix}_conf"
    )
    iou = st.slider("NMS IoU threshold", 0.10, 0.95, 0.70, 0.05, key=f"{prefix}_iou")
    classes = st.multiselect(
        "Show only these detector classes",
        list(detector_classes),
        key=f"{prefix}_classes",
        placeholder="All classes",
    )
    return conf, iou, tuple(classes) or None
