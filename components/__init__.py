"""Streamlit building blocks: caches, controls (return plain values) and views (render)."""
