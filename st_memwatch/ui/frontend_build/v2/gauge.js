function u(r) {
  const t = r < 0 ? "-" : "";
  let s = Math.abs(r);
  for (const e of ["B", "KiB", "MiB", "GiB"]) {
    if (s < 1024 || e === "GiB") return e === "B" ? `${t}${s.toFixed(0)} B` : `${t}${s.toFixed(1)} ${e}`;
    s /= 1024;
  }
  return `${t}${s.toFixed(1)} GiB`;
}
function b(r) {
  return (r >= 0 ? "+" : "") + u(r);
}
function x(r) {
  return r < 10 ? `${r.toFixed(1)} s` : r < 90 ? `${r.toFixed(0)} s` : r < 5400 ? `${(r / 60).toFixed(0)} min` : r < 3 * 86400 ? `${(r / 3600).toFixed(1)} h` : `${(r / 86400).toFixed(0)} days`;
}
const k = "st_memwatch_";
function E(r) {
  const t = /* @__PURE__ */ new Map();
  for (const s of r.split(`
`)) {
    if (!s.startsWith(k)) continue;
    const e = s.lastIndexOf(" ");
    if (e < 0) continue;
    const i = s.slice(e + 1).trim(), n = i === "+Inf" || i === "inf" ? 1 / 0 : i === "-Inf" ? -1 / 0 : Number(i);
    (!Number.isNaN(n) || i === "NaN") && t.set(s.slice(0, e), n);
  }
  return t;
}
function L(r) {
  const t = (e, i = 0) => r.get(k + e) ?? i;
  if (!r.has(k + "rss_bytes")) return null;
  const s = r.get(k + "last_run_id");
  return {
    rss: t("rss_bytes"),
    limit: t("limit_bytes"),
    leak: t("leak") >= 1,
    secondsToLimit: t("seconds_to_limit", 1 / 0),
    growthPerRun: t("growth_bytes_per_run"),
    busy: t("runs_in_progress"),
    busySeconds: t("run_in_progress_seconds"),
    busyDelta: t("run_in_progress_delta_bytes"),
    lastRun: s === void 0 ? null : {
      id: s,
      delta: t("last_run_delta_bytes"),
      peak: t("run_peak_bytes"),
      duration: t("last_run_duration_seconds"),
      end: t("last_run_end_timestamp_seconds")
    },
    warnings: t('warnings{level="warning"}'),
    errors: t('warnings{level="error"}')
  };
}
const T = 1, N = 1e3, I = 3e4, P = 1e4, A = 4e3, D = 300, z = 900, B = 0.7, F = 0.9, O = "http://www.w3.org/2000/svg", _ = 300, w = 56;
function a(r, t, s) {
  const e = document.createElement(r);
  return e.className = t, s?.appendChild(e), e;
}
function v(r, t, s) {
  const e = document.createElementNS(O, r);
  for (const [i, n] of Object.entries(t)) e.setAttribute(i, String(n));
  return s.appendChild(e), e;
}
class G {
  constructor(t, s) {
    this.host = s, this.data = null, this.live = null, this.liveOk = !1, this.failures = 0, this.polls = 0, this.skew = 0, this.points = [], this.runs = /* @__PURE__ */ new Map(), this.selected = null, this.stopped = !1, this.onVisibility = () => {
      document.visibilityState === "visible" && this.schedule(0);
    }, this.root = a("div", "smw smw-ok", t), this.root.dataset.testid = "st-memwatch-gauge";
    const e = a("div", "smw-head", this.root);
    a("span", "smw-title", e).textContent = "Memory", this.now = a("span", "smw-now", e), this.of = a("span", "smw-of smw-dim", e), this.pct = a("span", "smw-pct", e), this.liveMark = a("span", "smw-live", e);
    const i = a("div", "smw-bar", this.root);
    this.fill = a("div", "smw-fill", i);
    for (const n of [B, F])
      a("div", "smw-tick", i).style.left = `${n * 100}%`;
    this.spark = document.createElementNS(O, "svg"), this.spark.setAttribute("class", "smw-spark"), this.spark.setAttribute("viewBox", `0 0 ${_} ${w}`), this.spark.setAttribute("preserveAspectRatio", "none"), this.root.appendChild(this.spark), this.axis = a("div", "smw-axis", this.root), this.busy = a("div", "smw-busy", this.root), this.last = a("div", "smw-last", this.root), this.trend = a("div", "smw-trend", this.root), this.notes = a("div", "smw-notes", this.root), document.addEventListener("visibilitychange", this.onVisibility);
  }
  /** New data from a script run. Live figures of later polls take precedence. */
  update(t) {
    const s = this.data === null, e = this.data?.metrics_url !== t.metrics_url;
    this.data = t, this.skew = Date.now() / 1e3 - t.server_now, this.selected = t.selected;
    for (const i of t.runs) this.runs.set(i.id, i);
    (s || t.samples.length) && this.mergeSamples(t.samples), this.addPoint(t.server_now, t.rss), this.render(), (s || e) && t.metrics_url && this.schedule(0);
  }
  destroy() {
    this.stopped = !0, window.clearTimeout(this.timer), document.removeEventListener("visibilitychange", this.onVisibility), this.root.remove();
  }
  mergeSamples(t) {
    const s = this.points.length ? this.points[0][0] : 1 / 0, e = t.filter(([i]) => i < s);
    this.points = [...e, ...this.points];
  }
  addPoint(t, s) {
    const e = this.points.length;
    if (e && this.points[e - 1][0] >= t) return;
    this.points.push([t, s]);
    const i = t - z;
    let n = 0;
    for (; n < this.points.length && this.points[n][0] < i; ) n++;
    n && this.points.splice(0, n);
  }
  schedule(t) {
    window.clearTimeout(this.timer), !(this.stopped || !this.data?.metrics_url) && (this.timer = window.setTimeout(() => void this.poll(), t));
  }
  async poll() {
    const t = this.data;
    if (!t?.metrics_url || this.stopped) return;
    if (document.visibilityState === "hidden" && this.polls > 0) {
      this.schedule(I);
      return;
    }
    this.polls++;
    const s = new AbortController(), e = window.setTimeout(() => s.abort(), A);
    try {
      const i = t.families.map((h) => `families=${encodeURIComponent(h)}`).join("&"), n = await fetch(i ? `${t.metrics_url}?${i}` : t.metrics_url, {
        cache: "no-store",
        credentials: "same-origin",
        signal: s.signal
      });
      if (!n.ok) throw new Error(`HTTP ${n.status}`);
      const c = L(E(await n.text()));
      if (c === null) throw new Error("no st_memwatch figures in the metrics");
      this.onLive(c), this.failures = 0, this.liveOk = !0;
    } catch {
      this.failures++, this.liveOk = !1;
    } finally {
      window.clearTimeout(e);
    }
    this.render(), this.schedule(this.liveOk ? N : Math.min(N * 2 ** this.failures, P));
  }
  onLive(t) {
    this.live = t, this.addPoint(Date.now() / 1e3 - this.skew, t.rss);
    const s = t.lastRun;
    s && !this.runs.has(s.id) && this.runs.set(s.id, {
      id: s.id,
      start: s.end - s.duration,
      duration: s.duration,
      delta: s.delta,
      peak: s.peak,
      outcome: ""
    });
  }
  render() {
    const t = this.data;
    if (!t) return;
    const s = this.liveOk ? this.live : null, e = s?.rss ?? t.rss, i = s && s.limit > 0 ? s.limit : t.limit, n = i > 0 ? e / i : 0, c = n >= F ? "smw-red" : n >= B ? "smw-amber" : "smw-ok";
    this.root.className = `smw ${c}`, this.root.dataset.live = this.liveOk ? "1" : "0", this.root.dataset.polls = String(this.polls), this.now.textContent = u(e), this.of.textContent = `of ${u(i)}`, this.of.title = t.limit_label, this.pct.textContent = `${Math.round(n * 100)}%`, this.fill.style.width = `${Math.min(100, n * 100).toFixed(1)}%`, this.liveMark.dataset.live = this.liveOk ? "1" : "0", this.liveMark.textContent = this.liveOk ? "live" : "not live", this.liveMark.title = this.liveOk ? "updated about once a second from /_stcore/metrics" : t.not_live_reason || "the metrics endpoint did not answer: figures are from the last script run", this.busy.textContent = s && s.busy > 0 ? `Run in progress, ${x(s.busySeconds)}, ${b(s.busyDelta)} so far` : "", this.renderLastRun(), this.renderTrend(e, i, s), this.notes.textContent = t.notes.length ? `⚠ ${t.notes.join(" · ")}` : "", this.renderSpark(i), this.host.resized();
  }
  newestRun() {
    let t = null;
    for (const s of this.runs.values()) (!t || s.id > t.id) && (t = s);
    return t;
  }
  renderLastRun() {
    const t = this.selected !== null ? this.runs.get(this.selected) : void 0, s = t ?? this.newestRun();
    if (this.last.dataset.run = s ? String(s.id) : "", !s) {
      this.last.textContent = "No run recorded yet";
      return;
    }
    const e = t ? `Selected run #${s.id}` : `Last run #${s.id}`;
    this.last.textContent = `${e}: ${b(s.delta)}, peak ${u(s.peak)}, ${x(s.duration)}`;
  }
  renderTrend(t, s, e) {
    const i = this.data, n = e ? e.leak : i.leak, c = e ? e.growthPerRun : i.trend?.per_run ?? 0, h = e ? e.secondsToLimit : i.trend?.seconds_to_limit ?? 1 / 0;
    let l, d = "";
    s > 0 && t >= s ? (l = `Over the limit: ${u(t)} of ${u(s)}`, d = "bad") : c > 0 && Number.isFinite(h) && h < 7 * 86400 ? (l = `Growing ${b(c)}/run · limit in ~${x(h)}`, d = h < 1800 ? "bad" : "warn") : c > 0 && (e || i.trend) ? l = `Growing ${b(c)}/run · limit far away` : e || i.trend ? l = "Steady: no growth toward the limit" : l = "Trend: known after a few runs", n && (l = `Leak · ${l}`, d = "bad"), this.trend.textContent = l, this.trend.className = `smw-trend ${d}`;
  }
  renderSpark(t) {
    const s = this.spark;
    for (; s.firstChild; ) s.removeChild(s.firstChild);
    const e = this.points;
    if (!e.length) return;
    const i = Math.max(e[e.length - 1][0], Date.now() / 1e3 - this.skew), n = Math.max(e[0][0], i - D), c = Math.max(30, i - n), h = i - c, l = e.filter(([o]) => o >= h);
    let d = Math.min(...l.map(([, o]) => o)), m = Math.max(...l.map(([, o]) => o));
    const y = t > 0 && t <= m * 1.5;
    y && (m = Math.max(m, t)), d = Math.max(0, d - (m - d) * 0.1 - 1), m = m + (m - d) * 0.08 + 1;
    const g = (o) => (o - h) / c * _, $ = (o) => w - (o - d) / (m - d) * w;
    for (const o of [...this.runs.values()].sort((p, f) => p.id - f.id)) {
      const p = o.start + o.duration;
      if (p < h) continue;
      const f = Math.max(0, g(o.start)), R = Math.max(4, g(p) - f), S = v(
        "rect",
        { x: f, y: 0, width: R, height: w, class: `run${o.id === this.selected ? " selected" : ""}`, "data-run": o.id },
        s
      );
      v("title", {}, S).textContent = `Run #${o.id}: ${b(o.delta)}, peak ${u(o.peak)}, ${x(o.duration)}`, S.addEventListener("click", () => this.choose(o.id)), v("line", { x1: f, x2: f, y1: 0, y2: w, class: "edge" }, s);
    }
    const C = l.map(([o, p]) => `${g(o).toFixed(1)},${$(p).toFixed(1)}`).join(" ");
    l.length > 1 && v("polygon", { points: `${g(l[0][0]).toFixed(1)},${w} ${C} ${g(l[l.length - 1][0]).toFixed(1)},${w}`, class: "area" }, s), v("polyline", { points: C, class: "line" }, s), y && v("line", { x1: 0, x2: _, y1: $(t), y2: $(t), class: "limit" }, s), this.axis.textContent = "", a("span", "", this.axis).textContent = `${x(c)} ago`, a("span", "", this.axis).textContent = y ? "- - limit" : `limit ${u(t)} off the chart`, a("span", "", this.axis).textContent = "now";
  }
  choose(t) {
    this.selected = t, this.render(), this.host.select({ v: T, run: t });
  }
}
const j = '.smw{--smw-text: var(--st-text-color, var(--text-color, #31333f));--smw-bg2: var(--st-secondary-background-color, var(--secondary-background-color, #f0f2f6));--smw-ok: var(--st-green-color, #21c354);--smw-amber: var(--st-orange-color, #ffa421);--smw-red: var(--st-red-color, #ff4b4b);--smw-line: var(--st-primary-color, var(--primary-color, #ff4b4b));font-family:var(--st-font, var(--font, "Source Sans Pro", sans-serif));color:var(--smw-text);font-size:.85rem;line-height:1.35;box-sizing:border-box;width:100%;padding:0 1px 2px}.smw *{box-sizing:border-box}.smw-head{display:flex;align-items:baseline;gap:.35em;flex-wrap:wrap}.smw-now,.smw-pct{font-weight:700;font-variant-numeric:tabular-nums}.smw-ok .smw-pct{color:var(--smw-ok)}.smw-amber .smw-pct{color:var(--smw-amber)}.smw-red .smw-pct{color:var(--smw-red)}.smw-live{margin-left:auto;font-size:.7rem;opacity:.75;white-space:nowrap}.smw-live:before{content:"● ";color:var(--smw-ok)}.smw-live[data-live="0"]:before{content:"○ ";color:inherit}.smw-bar{position:relative;height:8px;border-radius:3px;margin:3px 0;background:color-mix(in srgb,var(--smw-text) 18%,transparent);overflow:hidden}.smw-fill{height:100%;border-radius:3px;background:var(--smw-ok);transition:width .3s}.smw-amber .smw-fill{background:var(--smw-amber)}.smw-red .smw-fill{background:var(--smw-red)}.smw-tick{position:absolute;top:0;bottom:0;width:1px;background:color-mix(in srgb,var(--smw-text) 45%,transparent)}.smw-spark{display:block;width:100%;height:56px;margin:4px 0 2px;background:var(--smw-bg2);border-radius:3px}.smw-spark .line{fill:none;stroke:var(--smw-line);stroke-width:1.5;vector-effect:non-scaling-stroke}.smw-spark .area{fill:color-mix(in srgb,var(--smw-line) 14%,transparent);stroke:none}.smw-spark .limit{stroke:var(--smw-red);stroke-width:1;stroke-dasharray:4 3;vector-effect:non-scaling-stroke}.smw-spark .run{fill:color-mix(in srgb,var(--smw-text) 10%,transparent);cursor:pointer}.smw-spark .run:hover{fill:color-mix(in srgb,var(--smw-text) 22%,transparent)}.smw-spark .run.selected{fill:color-mix(in srgb,var(--smw-line) 30%,transparent)}.smw-spark .edge{stroke:color-mix(in srgb,var(--smw-text) 40%,transparent);stroke-width:1;vector-effect:non-scaling-stroke;pointer-events:none}.smw-axis{display:flex;justify-content:space-between;font-size:.68rem;opacity:.7}.smw-busy{font-weight:600}.smw-busy:empty,.smw-notes:empty{display:none}.smw-trend.warn{color:var(--smw-amber);font-weight:600}.smw-trend.bad{color:var(--smw-red);font-weight:600}.smw-dim{opacity:.7}.smw-notes{font-size:.72rem;opacity:.7}', M = /* @__PURE__ */ new WeakMap(), V = ({ data: r, parentElement: t, setStateValue: s }) => {
  let e = M.get(t);
  if (!e) {
    const i = document.createElement("style");
    i.textContent = j, t.appendChild(i);
    const n = { gauge: void 0, send: () => {
    } };
    n.gauge = new G(t, { select: (c) => n.send(c), resized: () => {
    } }), e = n, M.set(t, e);
  }
  return e.send = (i) => s("selected", i), e.gauge.update(r), () => {
    e.gauge.destroy(), M.delete(t);
  };
};
export {
  V as default
};
