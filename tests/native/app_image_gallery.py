"""(b) A 1024x1024 Pillow image added to ``st.session_state["gallery"]`` on every run.

Pillow keeps the pixels in its own C blocks: ``sys.getsizeof`` of each image is a few
dozen bytes. The holder to name is the session key "gallery".
"""

import streamlit as st
from PIL import Image

import st_memwatch

st_memwatch.panel()
gallery = st.session_state.setdefault("gallery", [])
n = len(gallery)
side = 1024
image = Image.new("RGB", (side, side), ((n * 37) % 256, (n * 91) % 256, 128))  # every pixel written
gallery.append(image)
st.write(f"Images in the gallery: {len(gallery)}")
