"""An explicit mapping from ImageNet-1k classes to COCO classes.

How it was built: for each of the 80 COCO classes, the ImageNet-1k synsets that are that
kind of thing were picked by hand from the WordNet hierarchy of the 1000 synsets (every dog
breed is a dog; tabby, tiger cat, Persian, Siamese and Egyptian cat are domestic cats,
while cougar or lion are not; a minibus is a bus; an ox is a cow), written here by their
torchvision category names and index ranges. ``tests/test_taxonomy.py`` checks every name
and range against torchvision's category list. A COCO class with no entry is one ImageNet
cannot name at all: ``person`` is the best-known (ImageNet has scuba diver, groom and
ballplayer as activities, not people), and giraffe, kite, frisbee, scissors and others are
missing from its 1000 classes too. VOC classes are COCO classes under their COCO names.
"""

from __future__ import annotations

from collections.abc import Sequence

# Entries are ImageNet class names, or (first, last) name pairs for an index range.
IMAGENET_TO_COCO: dict[str, tuple[str | tuple[str, str], ...]] = {
    "bicycle": ("bicycle-built-for-two", "mountain bike"),
    "car": ("ambulance", "beach wagon", "cab", "convertible", "jeep", "limousine",
            "minivan", "Model T", "police van", "racer", "sports car"),
    "motorcycle": ("moped", "motor scooter"),
    "airplane": ("airliner", "warplane"),
    "bus": ("minibus", "school bus", "trolleybus"),
    "train": ("bullet train", "electric locomotive", "freight car", "passenger car",
              "steam locomotive", "streetcar"),
    "truck": ("fire engine", "garbage truck", "moving van", "pickup", "tow truck",
              "trailer truck"),
    "boat": ("canoe", "catamaran", "container ship", "fireboat", "gondola", "lifeboat",
             "liner", "pirate", "schooner", "speedboat", "submarine", "trimaran", "yawl"),
    "traffic light": ("traffic light",),
    "parking meter": ("parking meter",),
    "bench": ("park bench",),
    "bird": (("cock", "great grey owl"), ("black grouse", "black swan"),
             ("white stork", "albatross")),
    "cat": (("tabby", "Egyptian cat"),),
    "dog": (("Chihuahua", "Mexican hairless"),),
    "horse": ("sorrel",),
    "sheep": ("ram",),
    "cow": ("ox",),
    "elephant": ("tusker", "Indian elephant", "African elephant"),
    "bear": (("brown bear", "sloth bear"),),
    "zebra": ("zebra",),
    "backpack": ("backpack",),
    "umbrella": ("umbrella",),
    "handbag": ("purse",),
    "tie": ("bow tie", "Windsor tie"),
    "skis": ("ski",),
    "sports ball": ("baseball", "basketball", "croquet ball", "golf ball", "ping-pong ball",
                    "rugby ball", "soccer ball", "tennis ball", "volleyball"),
    "tennis racket": ("racket",),
    "bottle": ("beer bottle", "pill bottle", "pop bottle", "water bottle", "wine bottle"),
    "wine glass": ("goblet",),
    "cup": ("cup", "coffee mug"),
    "spoon": ("wooden spoon",),
    "bowl": ("mixing bowl", "soup bowl"),
    "banana": ("banana",),
    "apple": ("Granny Smith",),
    "orange": ("orange",),
    "broccoli": ("broccoli",),
    "hot dog": ("hotdog",),
    "pizza": ("pizza",),
    "chair": ("barber chair", "folding chair", "rocking chair", "throne"),
    "couch": ("studio couch",),
    "potted plant": ("pot",),
    "bed": ("four-poster", "crib", "bassinet"),
    "dining table": ("dining table",),
    "toilet": ("toilet seat",),
    "tv": ("television", "monitor", "screen"),
    "laptop": ("laptop", "notebook"),
    "mouse": ("mouse",),
    "remote": ("remote control",),
    "keyboard": ("computer keyboard",),
    "cell phone": ("cellular telephone",),
    "microwave": ("microwave",),
    "toaster": ("toaster",),
    "sink": ("washbasin",),
    "refrigerator": ("refrigerator",),
    "book": ("book jacket",),
    "clock": ("analog clock", "digital clock", "wall clock"),
    "vase": ("vase",),
    "teddy bear": ("teddy",),
    "hair drier": ("hand blower",),
}  # fmt: skip


def resolve_mapping(
    imagenet_names: Sequence[str], targets: Sequence[str]
) -> dict[str, list[int]]:
    """Target class -> ImageNet class indices, for every target class (empty: unnameable).

    Args:
        imagenet_names: the classifier's 1000 category names, in output order.
        targets: the dataset's class names (COCO names).

    Raises:
        ValueError: a name in the mapping is not one of ``imagenet_names``.
    """
    position = {}
    for i, name in enumerate(imagenet_names):
        position.setdefault(
            name, i
        )  # "crane" and "maillot" repeat; ranges use the first
    out: dict[str, list[int]] = {}
    for target in targets:
        indices: list[int] = []
        for entry in IMAGENET_TO_COCO.get(target, ()):
            first, last = (entry, entry) if isinstance(entry, str) else entry
            for name in (first, last):
                if name not in position:
                    raise ValueError(
                        f"ImageNet class {name!r} (for {target!r}) is unknown"
                    )
            indices.extend(range(position[first], position[last] + 1))
        out[target] = sorted(set(indices))
    return out
