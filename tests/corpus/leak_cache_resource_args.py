"""LEAK: ``st.cache_resource`` keyed on a value that changes every rerun.

Typical report: a search index / model / client is "cached", but its cache key
includes something that changes (a data version, a timestamp, a text input),
so each rerun builds and keeps another resource.
"""

import numpy as np
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no


class SearchIndex:
    def __init__(self, version: int) -> None:
        self.version = version
        self.vectors = np.random.default_rng(version).standard_normal((2_000, 64))  # ~1 MB

    def search(self, query: np.ndarray, k: int = 5) -> np.ndarray:
        return np.argsort(self.vectors @ query)[-k:]


@st.cache_resource
def build_search_index(docs_version: int) -> SearchIndex:
    return SearchIndex(docs_version)


st.title("Document search")
index = build_search_index(run_no)  # docs_version bumps on every rerun
hits = index.search(np.ones(64))
st.write({"index version": index.version, "top hits": hits.tolist()})
