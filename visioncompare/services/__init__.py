"""Services: what the command line and the pages share, above the model zoo. The command
line (``cli``), the evaluation report (``report``), the engines that make a dataset's
predictions (this process, or a Ray Data actor pool: ``ray_engine``), the video path
(``video_pipeline``) and the subset fetcher (``fetch``).

May import ``model_zoo`` and the pure library; never streamlit, and never the app's
``components`` or ``pages``.
"""
