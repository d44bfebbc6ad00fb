"""Lesson 1: load the model once."""

import streamlit as st

from lab import common, modellib


def reset() -> None:
    modellib.forget()
    modellib.load_once.clear()


def page() -> None:
    """Lesson 1: load the model once: the page shown by st.navigation."""
    size = common.model_bytes()
    st.header("1 · Load the model once")
    st.markdown(
        f"""
    Loading a model in the script body runs on **every** rerun: every click pays the load time and
    a peak of the model's size ({common.format_bytes(size)} here). Worse, many libraries remember what
    they build (a default graph, a registry of loaded models), so each run keeps one more copy: memory
    climbs run after run until the app is killed. Decorate the loader with `@st.cache_resource` and the
    model is built once per process and shared by every run and every visitor.
    """
    )
    choice = common.variant("model", "load it in the script body", "@st.cache_resource")
    active = common.controls("model", reset)
    if not active:
        st.caption("Nothing allocated in the run that reset the lesson.")
    elif choice == "bad":
        st.code("weights = modellib.build(nbytes)   # every run", language="python")
        if common.has_room(size):
            modellib.build(size)
        else:
            common.out_of_room()
    else:
        st.code("@st.cache_resource\ndef load_once(nbytes):\n    return modellib.build(nbytes)", language="python")
        modellib.load_once(size)
    st.caption(f"The library has built {modellib.models_built()} model(s) in this process.")
    common.readout(common.measure())
    common.finish("model")
