"""Healthy: a form (text, number, select) whose submission is summarised; only the last one is kept."""

import streamlit as st

import st_memwatch

st_memwatch.panel()

st.title("Order form")
with st.form("order"):
    name = st.text_input("Customer name")
    quantity = st.number_input("Quantity", min_value=1, max_value=1000, value=1)
    product = st.selectbox("Product", ["widget", "gadget", "gizmo", "doohickey"])
    note = st.text_area("Note", "")
    sent = st.form_submit_button("Submit order")
if sent:
    st.session_state["last_order"] = {"name": name, "quantity": int(quantity), "product": product, "note": note}
order = st.session_state.get("last_order")
if order:
    st.success(f"Order for {order['name'] or 'anonymous'}: {order['quantity']} × {order['product']}")
    st.json(order)
else:
    st.info("No order yet.")
