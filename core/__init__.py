"""Pure core of VisionCompare: numpy, Pillow, pandas and Plotly only (no streamlit, no torch)."""
