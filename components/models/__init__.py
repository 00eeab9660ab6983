"""The Models page: the zoo with its published and measured figures (``views``)."""
