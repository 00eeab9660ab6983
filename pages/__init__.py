"""The app's pages: one thin script per page, run by the router (``app.py``) through
``st.navigation``; a page reads as the list of its sections. Its heading (title and
caption) is drawn by the router, before anything slow runs."""
