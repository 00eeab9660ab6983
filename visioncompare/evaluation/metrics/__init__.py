"""Detection and classification metrics on a Dataset and stored predictions."""
