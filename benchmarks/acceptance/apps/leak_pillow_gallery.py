"""Leak: a generated 1024x1024 Pillow image (3 MiB of pixels in C) appended to st.session_state["gallery"] per run."""

import streamlit as st
from PIL import Image

import st_memwatch

st_memwatch.panel()

st.title("Gallery")
st.button("Generate")
gallery = st.session_state.setdefault("gallery", [])
shade = (len(gallery) * 37) % 256
gallery.append(Image.new("RGB", (1024, 1024), (shade, 255 - shade, 128)))
st.write(f"{len(gallery)} images in the gallery.")
