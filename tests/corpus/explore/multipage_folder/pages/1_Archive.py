import sys
import types

import numpy as np
import streamlit as st

store = sys.modules.setdefault("_explore_corpus_archive", types.ModuleType("_explore_corpus_archive"))
if not hasattr(store, "pages"):
    store.pages = []
st.title("Archive")
store.pages.append(np.ones(1 << 17))  # 1 MiB per rerun of this page, kept at module level
st.write(f"{len(store.pages)} archive pages loaded")
