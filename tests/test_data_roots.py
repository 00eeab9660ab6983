"""Server folders: only under the operator's roots, symbolic links resolved, and one
message for every path outside (it never tells whether a file exists)."""

from __future__ import annotations

import os

import pytest

from visioncompare.datasets.roots import (
    REFUSED,
    DataRoot,
    PathRefused,
    confine,
    confine_in,
    data_roots,
    named_roots,
)


@pytest.fixture
def roots(tmp_path):
    root = tmp_path / "shared"
    (root / "coco").mkdir(parents=True)
    (root / "coco" / "instances.json").write_text("{}")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.txt").write_text("x")
    return data_roots(str(root)), tmp_path


def test_no_roots_configured(monkeypatch):
    monkeypatch.delenv("VISIONCOMPARE_DATA_ROOTS", raising=False)
    assert data_roots() == ()
    with pytest.raises(PathRefused):
        confine("/anything", ())


def test_several_roots(tmp_path):
    value = os.pathsep.join([str(tmp_path / "a"), "", str(tmp_path / "b")])
    assert data_roots(value) == ((tmp_path / "a").resolve(), (tmp_path / "b").resolve())


def test_inside_is_opened(roots):
    roots, tmp = roots
    assert confine(str(tmp / "shared" / "coco"), roots) == roots[0] / "coco"
    assert confine("coco/instances.json", roots) == roots[0] / "coco" / "instances.json"
    # Inside but missing: allowed here; the dataset reader says it is missing.
    assert confine(str(tmp / "shared" / "nope"), roots) == roots[0] / "nope"


@pytest.mark.parametrize(
    "typed",
    [
        "{tmp}/private/secret.txt",  # exists, outside
        "{tmp}/private/missing.txt",  # missing, outside
        "{tmp}/shared/../private/secret.txt",  # .. out
        "/etc/hostname",
        "/etc/shadow",
        "/no/such/file",
        "../private/secret.txt",  # relative, out of the first root
        "{tmp}/shared/link-out/secret.txt",  # a symbolic link inside pointing out
        "{tmp}/shared/link-out",
        "",
        "bad\x00path",
        "~nosuchuser/x",  # a home folder that does not exist
    ],
)
def test_outside_is_refused_with_one_message(roots, typed):
    roots, tmp = roots
    (tmp / "shared" / "link-out").symlink_to(tmp / "private")
    with pytest.raises(PathRefused) as info:
        confine(typed.format(tmp=tmp), roots)
    assert str(info.value) == REFUSED


def test_roots_are_named_by_the_operator_or_by_their_last_folder(tmp_path):
    for folder in ("coco", "voc", "x/data", "y/data", "z/data"):
        (tmp_path / folder).mkdir(parents=True)
    value = os.pathsep.join([
        f"COCO 2017={tmp_path / 'coco'}", str(tmp_path / "voc"), "",
        str(tmp_path / "x" / "data"), str(tmp_path / "y" / "data"),
        f"data={tmp_path / 'z' / 'data'}",
    ])  # fmt: skip
    roots = named_roots(value)
    assert [r.name for r in roots] == ["COCO 2017", "voc", "data", "data-2", "data-3"]
    assert [r.path for r in roots] == [
        (tmp_path / f).resolve() for f in ("coco", "voc", "x/data", "y/data", "z/data")
    ]
    assert data_roots(value) == tuple(r.path for r in roots)  # the old reading, paths
    # A bare path holding "=" stays a path (a name never holds "/").
    odd = tmp_path / "a=b"
    assert named_roots(str(odd)) == (DataRoot("a=b", odd.resolve()),)


def test_typed_paths_are_relative_to_a_named_root(roots):
    paths, tmp = roots
    (tmp / "shared" / "link-out").symlink_to(tmp / "private")
    named = named_roots(f"shared={paths[0]}")
    (root,) = named
    assert confine_in("coco", root, named) == paths[0] / "coco"
    assert confine_in(" coco/instances.json ", root, named) == (
        paths[0] / "coco" / "instances.json"
    )
    assert confine_in(".", root, named) == paths[0]
    assert confine_in("~x", root, named) == paths[0] / "~x"  # a name, not a home
    for typed in (str(paths[0] / "coco"), "/etc/hostname", "../private/secret.txt",
                  "link-out/secret.txt", "", "a\x00b", "\\\\server\\share"):  # fmt: skip
        with pytest.raises(PathRefused) as info:
            confine_in(typed, root, named)
        assert str(info.value) == REFUSED, typed
