"""``python -m visioncompare``: the command line (``visioncompare.services.cli``)."""

from visioncompare.services.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
