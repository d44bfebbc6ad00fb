"""NOT A LEAK: lots of short-lived objects per run.

Each run builds ~200k small dicts in batches, aggregates them and round-trips
every batch through JSON, then drops them all. Python's allocator reuses the
same pools from run to run, so after the first run or two memory stays flat.
"""

import json
from collections import Counter, defaultdict

import numpy as np
import streamlit as st

st.session_state.setdefault("run_no", 0)
st.session_state.run_no += 1
run_no = st.session_state.run_no

rng = np.random.default_rng(run_no)
totals: defaultdict[str, float] = defaultdict(float)
tag_counts: Counter[str] = Counter()
best: list[tuple[float, int]] = []
round_tripped = 0
for batch_no in range(200):
    scores = rng.random(1_000).tolist()
    batch = [{"id": batch_no * 1_000 + i, "score": s, "tag": f"t{i % 97}"} for i, s in enumerate(scores)]
    for rec in batch:
        totals[rec["tag"]] += rec["score"]
        tag_counts[rec["tag"]] += 1
    best = sorted(best + [(rec["score"], rec["id"]) for rec in batch], reverse=True)[:10]
    round_tripped += len(json.loads(json.dumps(batch)))

st.title("Scoring")
common = tag_counts.most_common(10)
st.dataframe({"tag": [t for t, _ in common], "total": [totals[t] for t, _ in common]})
st.write([rec_id for _, rec_id in best])
st.caption(f"{sum(tag_counts.values())} records scored, {round_tripped} round-tripped")
