"""Renderers: turn a Snapshot into Streamlit elements, JSON or CSV. No measuring here."""
