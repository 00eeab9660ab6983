"""The Video page: its widgets (``controls``) and its renderers (``views``)."""
