"""The subset downloader against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from visioncompare.datasets.registry import load_folder
from visioncompare.services import fetch
from visioncompare.services.cli import main as cli


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support and counts the bytes it sends."""

    sent: ClassVar[list[int]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        if (header := self.headers.get("Range", "")).startswith("bytes="):
            start = int(header[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header(
                "Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}"
            )
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # Counted before writing: the client may finish reading (and the test assert)
        # before this thread returns from the write.
        RangeHandler.sent.append(len(body))
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(RangeHandler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    RangeHandler.sent = []
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _jpeg(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _coco_fixture(root: Path, images: int = 6) -> str:
    (root / "val2017").mkdir()
    data = {"images": [], "annotations": [], "categories": [{"id": 18, "name": "dog"}],
            "info": {"description": "fixture"}}  # fmt: skip
    for i in range(1, images + 1):
        name = f"{i:012d}.jpg"
        (root / "val2017" / name).write_bytes(_jpeg((i * 30, 0, 0)))
        data["images"].append({"id": i, "file_name": name, "width": 64, "height": 48})
        data["annotations"].append(
            {"id": i, "image_id": i, "category_id": 18, "bbox": [1, 2, 10, 20], "area": 200,
             "iscrowd": 0}
        )  # fmt: skip
    archive = root / "annotations" / "annotations_trainval2017.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("annotations/instances_val2017.json", json.dumps(data))
    return hashlib.md5(archive.read_bytes()).hexdigest()


def test_coco_subset_is_seeded_complete_and_loadable(server, tmp_path):
    root, url = server
    md5 = _coco_fixture(root)
    seen = []
    path = fetch.fetch_coco_subset(
        tmp_path / "out", n=3, seed=1, base_url=url, annotations_md5=md5,
        progress=lambda *a: seen.append(a),
    )  # fmt: skip
    dataset = load_folder(path)
    assert (
        len(dataset) == 3 and dataset.num_boxes == 3 and dataset.class_names == ("dog",)
    )
    again = fetch.fetch_coco_subset(tmp_path / "again", n=3, seed=1, base_url=url,
                                    annotations_md5=md5)  # fmt: skip
    ids = [s.image_id for s in dataset.samples]
    assert ids == [
        s.image_id for s in load_folder(again).samples
    ]  # same seed, same images
    other = fetch.fetch_coco_subset(tmp_path / "other", n=3, seed=2, base_url=url,
                                    annotations_md5=md5)  # fmt: skip
    assert ids != [s.image_id for s in load_folder(other).samples]
    manifest = (tmp_path / "out" / "SHA256SUMS").read_text().splitlines()
    assert len(manifest) == 4 and all(
        line.split()[1].startswith("./") for line in manifest
    )
    assert ("images", 3, 3) in seen


def test_download_resumes_a_partial_file(server, tmp_path):
    root, url = server
    payload = bytes(range(256)) * 400
    (root / "blob.bin").write_bytes(payload)
    dest = tmp_path / "blob.bin"
    dest.with_name("blob.bin.part").write_bytes(payload[:30_000])
    fetch.download(f"{url}/blob.bin", dest, md5=hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload
    assert RangeHandler.sent == [len(payload) - 30_000]  # only the rest was sent
    assert not dest.with_name("blob.bin.part").exists()


def test_a_checksum_mismatch_keeps_nothing(server, tmp_path):
    root, url = server
    (root / "blob.bin").write_bytes(b"tampered")
    with pytest.raises(fetch.FetchError, match="does not match the published"):
        fetch.download(f"{url}/blob.bin", tmp_path / "blob.bin", md5="0" * 32)
    assert not list(tmp_path.glob("blob.bin*"))


def test_missing_file_and_unreachable_server(server, tmp_path):
    _, url = server
    with pytest.raises(fetch.FetchError, match="HTTP 404"):
        fetch.download(f"{url}/nope.zip", tmp_path / "nope.zip")
    with pytest.raises(fetch.FetchError, match="partial file kept"):
        fetch.download("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", timeout=2)


def test_voc2007_test_from_a_tar(server, tmp_path):
    root, url = server
    src = tmp_path / "src" / "VOCdevkit" / "VOC2007"
    (src / "Annotations").mkdir(parents=True)
    (src / "JPEGImages").mkdir()
    (src / "JPEGImages" / "000001.jpg").write_bytes(_jpeg((0, 90, 0)))
    (src / "Annotations" / "000001.xml").write_text(
        "<annotation><filename>000001.jpg</filename><size><width>64</width><height>48"
        "</height></size><object><name>sofa</name><difficult>1</difficult><bndbox><xmin>1"
        "</xmin><ymin>1</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object></annotation>"
    )
    with tarfile.open(root / fetch.VOC2007_TEST[0], "w") as tar:
        tar.add(tmp_path / "src" / "VOCdevkit", arcname="VOCdevkit")
    md5 = hashlib.md5((root / fetch.VOC2007_TEST[0]).read_bytes()).hexdigest()
    voc = fetch.fetch_voc2007_test(tmp_path / "voc", base_url=url, md5=md5)
    dataset = load_folder(voc)
    assert dataset.samples[0].gt.labels == ["couch"]  # VOC names become COCO names
    assert dataset.samples[0].gt.extra["difficult"].tolist() == [1]


def test_cli_fetch_then_evaluate_reports_unreachable_mirror(tmp_path, capsys):
    code = cli(["fetch", "coco", "--dest", str(tmp_path), "--n", "2",
                "--base-url", "http://127.0.0.1:9"])  # fmt: skip
    assert (
        code == 2 and "error: http://127.0.0.1:9/annotations" in capsys.readouterr().err
    )
