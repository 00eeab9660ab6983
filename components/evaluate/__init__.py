"""The Evaluate page: the run with progress and stop (``run``), the results' header, and
the threshold explorer's views (summary, errors, side by side, downloads)."""
