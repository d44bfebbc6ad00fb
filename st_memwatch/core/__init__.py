"""Pure measuring and analysis: never imports streamlit or plotly (a test enforces it)."""
