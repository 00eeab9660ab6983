"""The Evaluate page's server-folder box: a shared folder by the name its operator gave
it, and a path typed relative to it. Visitors never see a root's server path, and every
path outside the roots gets one message (``visioncompare.datasets.roots``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from visioncompare.datasets.roots import DataRoot, PathRefused, confine_in


def server_folder_ui(
    prefix: str, roots: tuple[DataRoot, ...]
) -> tuple[Path, Path] | None:
    """A shared folder (a choice when there are several) and a path typed inside it:
    (the resolved path, the root's path it lies under), or None until a path is typed,
    or when it is refused (the message is shown)."""
    names = [r.name for r in roots]
    root = roots[0]
    if len(roots) > 1:
        picked = st.selectbox(
            "Shared folder",
            names,
            key=f"{prefix}_root",
            help="The folders this server shares, by the names its operator gave them.",
        )
        root = roots[names.index(picked)]
    path = st.text_input(
        f"Dataset path inside {root.name}",
        key=f"{prefix}_folder",
        placeholder="my_set (VOC folder, COCO json, or YOLO data.yaml; . for the "
        "folder itself)",
        help=f"A path relative to the shared folder {root.name}, such as "
        f"coco/annotations/instances_val2017.json. Shared folders: {', '.join(names)}.",
    ).strip()
    if not path:
        st.info(
            f"Type the path of a dataset inside {root.name} (COCO, VOC, YOLO, KITTI, "
            "Cityscapes or Open Images layout)."
        )
        return None
    try:
        resolved = confine_in(path, root, roots)
    except PathRefused as exc:
        st.error(f"This path cannot be opened: {exc}.")
        return None
    under = (r.path for r in roots if r.path == resolved or r.path in resolved.parents)
    return resolved, next(under)
