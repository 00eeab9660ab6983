"""What every page shares: the cache decorators (``cache``), widgets that return plain
values (``controls``) and the panels that place a
classifier's and a detector's results (``views``)."""
