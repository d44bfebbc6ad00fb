function u(n) {
  const t = n < 0 ? "-" : "";
  let s = Math.abs(n);
  for (const e of ["B", "KiB", "MiB", "GiB"]) {
    if (s < 1024 || e === "GiB") return e === "B" ? `${t}${s.toFixed(0)} B` : `${t}${s.toFixed(1)} ${e}`;
    s /= 1024;
  }
  return `${t}${s.toFixed(1)} GiB`;
}
function b(n) {
  return (n >= 0 ? "+" : "") + u(n);
}
function k(n) {
  return n < 1 ? `${Math.round(n * 1e3)} ms` : n < 10 ? `${n.toFixed(1)} s` : n < 90 ? `${n.toFixed(0)} s` : n < 5400 ? `${(n / 60).toFixed(0)} min` : n < 3 * 86400 ? `${(n / 3600).toFixed(1)} h` : `${(n / 86400).toFixed(0)} days`;
}
const $ = "st_memwatch_";
function E(n) {
  const t = /* @__PURE__ */ new Map();
  for (const s of n.split(`
`)) {
    if (!s.startsWith($)) continue;
    const e = s.lastIndexOf(" ");
    if (e < 0) continue;
    const i = s.slice(e + 1).trim(), r = i === "+Inf" || i === "inf" ? 1 / 0 : i === "-Inf" ? -1 / 0 : Number(i);
    (!Number.isNaN(r) || i === "NaN") && t.set(s.slice(0, e), r);
  }
  return t;
}
function T(n) {
  const t = (e, i = 0) => n.get($ + e) ?? i;
  if (!n.has($ + "rss_bytes")) return null;
  const s = n.get($ + "last_run_id");
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
const I = 1, S = 1e3, L = 3e4, A = 1e4, D = 4e3, P = 300, z = 900, N = 0.7, B = 0.9, O = "http://www.w3.org/2000/svg", y = 300, f = 56;
function c(n, t, s) {
  const e = document.createElement(n);
  return e.className = t, s?.appendChild(e), e;
}
function g(n, t, s) {
  const e = document.createElementNS(O, n);
  for (const [i, r] of Object.entries(t)) e.setAttribute(i, String(r));
  return s.appendChild(e), e;
}
class G {
  constructor(t, s) {
    this.host = s, this.data = null, this.live = null, this.liveOk = !1, this.failures = 0, this.polls = 0, this.skew = 0, this.points = [], this.runs = /* @__PURE__ */ new Map(), this.selected = null, this.stopped = !1, this.view = { start: 0, span: 1 }, this.onVisibility = () => {
      document.visibilityState === "visible" && this.schedule(0);
    }, this.root = c("div", "smw smw-ok", t), this.root.dataset.testid = "st-memwatch-gauge";
    const e = c("div", "smw-head", this.root);
    c("span", "smw-title", e).textContent = "Memory", this.now = c("span", "smw-now", e), this.of = c("span", "smw-of smw-dim", e), this.pct = c("span", "smw-pct", e);
    const i = c("div", "smw-bar", this.root);
    this.fill = c("div", "smw-fill", i);
    for (const o of [N, B])
      c("div", "smw-tick", i).style.left = `${o * 100}%`;
    this.spark = document.createElementNS(O, "svg"), this.spark.setAttribute("class", "smw-spark"), this.spark.setAttribute("viewBox", `0 0 ${y} ${f}`), this.spark.setAttribute("preserveAspectRatio", "none"), this.spark.addEventListener("click", (o) => this.onSparkClick(o)), this.root.appendChild(this.spark);
    const r = c("div", "smw-axis", this.root);
    this.axis = c("div", "smw-axis-text", r), this.liveMark = c("span", "smw-live", r), this.busy = c("div", "smw-busy", this.root), this.last = c("div", "smw-last", this.root), this.trend = c("div", "smw-trend", this.root), this.notes = c("div", "smw-notes", this.root), document.addEventListener("visibilitychange", this.onVisibility);
  }
  /** New data from a script run. Live figures of later polls take precedence. */
  update(t) {
    const s = this.data === null, e = this.data?.metrics_url !== t.metrics_url;
    this.data = t, this.skew = Date.now() / 1e3 - t.server_now, t.selected !== null && (this.selected = t.selected);
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
    let r = 0;
    for (; r < this.points.length && this.points[r][0] < i; ) r++;
    r && this.points.splice(0, r);
  }
  schedule(t) {
    window.clearTimeout(this.timer), !(this.stopped || !this.data?.metrics_url) && (this.timer = window.setTimeout(() => void this.poll(), t));
  }
  async poll() {
    const t = this.data;
    if (!t?.metrics_url || this.stopped) return;
    if (document.visibilityState === "hidden" && this.polls > 0) {
      this.schedule(L);
      return;
    }
    this.polls++;
    const s = new AbortController(), e = window.setTimeout(() => s.abort(), D);
    try {
      const i = t.families.map((d) => `families=${encodeURIComponent(d)}`).join("&"), r = await fetch(i ? `${t.metrics_url}?${i}` : t.metrics_url, {
        cache: "no-store",
        credentials: "same-origin",
        signal: s.signal
      });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const o = T(E(await r.text()));
      if (o === null) throw new Error("no st_memwatch figures in the metrics");
      this.onLive(o), this.failures = 0, this.liveOk = !0;
    } catch {
      this.failures++, this.liveOk = !1;
    } finally {
      window.clearTimeout(e);
    }
    this.render(), this.schedule(this.liveOk ? S : Math.min(S * 2 ** this.failures, A));
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
    const s = this.liveOk ? this.live : null, e = s?.rss ?? t.rss, i = s && s.limit > 0 ? s.limit : t.limit, r = i > 0 ? e / i : 0, o = r >= B ? "smw-red" : r >= N ? "smw-amber" : "smw-ok";
    this.root.className = `smw ${o}`, this.root.dataset.live = this.liveOk ? "1" : "0", this.root.dataset.polls = String(this.polls), this.now.textContent = u(e), this.of.textContent = `of ${u(i)}`, this.of.title = t.limit_label, this.pct.textContent = `${Math.round(r * 100)}%`, this.fill.style.width = `${Math.min(100, r * 100).toFixed(1)}%`, this.liveMark.dataset.live = this.liveOk ? "1" : "0", this.liveMark.textContent = this.liveOk ? "live" : "not live", this.liveMark.title = this.liveOk ? "updated about once a second from /_stcore/metrics" : t.not_live_reason || "the metrics endpoint did not answer: figures are from the last script run", this.busy.textContent = s && s.busy > 0 ? `Run in progress, ${k(s.busySeconds)}, ${b(s.busyDelta)} so far` : "", this.renderLastRun(), this.renderTrend(e, i, s), this.notes.textContent = t.notes.length ? `⚠ ${t.notes.join(" · ")}` : "", this.renderSpark(i), this.host.resized();
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
    this.last.textContent = `${e}: ${b(s.delta)}, peak ${u(s.peak)}, ${k(s.duration)}`;
  }
  renderTrend(t, s, e) {
    const i = this.data, r = e ? e.leak : i.leak, o = e ? e.growthPerRun : i.trend?.per_run ?? 0, d = e ? e.secondsToLimit : i.trend?.seconds_to_limit ?? 1 / 0;
    let l, h = "";
    s > 0 && t >= s ? (l = `Over the limit: ${u(t)} of ${u(s)}`, h = "bad") : o > 0 && Number.isFinite(d) && d < 7 * 86400 ? (l = `Growing ${b(o)}/run · limit in ~${k(d)}`, h = d < 1800 ? "bad" : "warn") : o > 0 && (e || i.trend) ? l = `Growing ${b(o)}/run · limit far away` : e || i.trend ? l = "Steady: no growth toward the limit" : l = "Trend: known after a few runs", r && (l = `Leak · ${l}`, h = "bad"), this.trend.textContent = l, this.trend.className = `smw-trend ${h}`;
  }
  renderSpark(t) {
    const s = this.spark;
    for (; s.firstChild; ) s.removeChild(s.firstChild);
    const e = this.points;
    if (!e.length) return;
    const i = Math.max(e[e.length - 1][0], Date.now() / 1e3 - this.skew), r = Math.max(e[0][0], i - P), o = Math.max(30, i - r), d = i - o, l = e.filter(([a]) => a >= d);
    let h = Math.min(...l.map(([, a]) => a)), m = Math.max(...l.map(([, a]) => a));
    const w = t > 0 && t <= m * 1.5;
    w && (m = Math.max(m, t)), h = Math.max(0, h - (m - h) * 0.1 - 1), m = m + (m - h) * 0.08 + 1, this.view = { start: d, span: o };
    const x = (a) => (a - d) / o * y, _ = (a) => f - (a - h) / (m - h) * f;
    for (const a of [...this.runs.values()].sort((v, p) => v.id - p.id)) {
      const v = a.start + a.duration;
      if (v < d) continue;
      const p = Math.min(y - 4, Math.max(0, x(a.start))), F = Math.min(y - p, Math.max(4, x(v) - p)), R = g(
        "rect",
        { x: p, y: 0, width: F, height: f, class: `run${a.id === this.selected ? " selected" : ""}`, "data-run": a.id },
        s
      );
      g("title", {}, R).textContent = `Run #${a.id}: ${b(a.delta)}, peak ${u(a.peak)}, ${k(a.duration)}`, g("line", { x1: p, x2: p, y1: 0, y2: f, class: "edge" }, s);
    }
    const C = l.map(([a, v]) => `${x(a).toFixed(1)},${_(v).toFixed(1)}`).join(" ");
    l.length > 1 && g("polygon", { points: `${x(l[0][0]).toFixed(1)},${f} ${C} ${x(l[l.length - 1][0]).toFixed(1)},${f}`, class: "area" }, s), g("polyline", { points: C, class: "line" }, s), w && g("line", { x1: 0, x2: y, y1: _(t), y2: _(t), class: "limit" }, s), this.axis.textContent = "", c("span", "", this.axis).textContent = `${k(o)} ago`, c("span", "", this.axis).textContent = w ? "- - limit" : `limit ${u(t)} off the chart`, c("span", "", this.axis).textContent = "now", this.axis.title = "the last minutes; shaded bands are script runs: click one for its details";
  }
  onSparkClick(t) {
    const s = this.spark.getBoundingClientRect();
    if (s.width <= 0) return;
    const { start: e, span: i } = this.view, r = e + (t.clientX - s.left) / s.width * i, o = 4 / s.width * i;
    let d = null, l = 1 / 0;
    for (const h of this.runs.values()) {
      const m = h.start + Math.max(h.duration, o), w = r < h.start ? h.start - r : r > m ? r - m : 0;
      w <= o && w < l && (d = h, l = w);
    }
    d && this.choose(d.id);
  }
  choose(t) {
    this.selected = t, this.render(), this.host.select({ v: I, run: t });
  }
}
const j = '.smw{--smw-text: var(--st-text-color, var(--text-color, #31333f));--smw-bg2: var(--st-secondary-background-color, var(--secondary-background-color, #f0f2f6));--smw-ok: var(--st-green-color, #21c354);--smw-amber: var(--st-orange-color, #ffa421);--smw-red: var(--st-red-color, #ff4b4b);--smw-line: var(--st-primary-color, var(--primary-color, #ff4b4b));font-family:var(--st-font, var(--font, "Source Sans Pro", sans-serif));color:var(--smw-text);font-size:.85rem;line-height:1.35;box-sizing:border-box;width:100%;padding:0 1px 2px}.smw *{box-sizing:border-box}.smw-head{display:flex;align-items:baseline;gap:.35em;flex-wrap:wrap}.smw-now,.smw-pct{font-weight:700;font-variant-numeric:tabular-nums}.smw-ok .smw-pct{color:var(--smw-ok)}.smw-amber .smw-pct{color:var(--smw-amber)}.smw-red .smw-pct{color:var(--smw-red)}.smw-live{font-size:.68rem;opacity:.75;white-space:nowrap;margin-left:.6em}.smw-live:before{content:"● ";color:var(--smw-ok)}.smw-live[data-live="0"]:before{content:"○ ";color:inherit}.smw-bar{position:relative;height:8px;border-radius:3px;margin:3px 0;background:color-mix(in srgb,var(--smw-text) 18%,transparent);overflow:hidden}.smw-fill{height:100%;border-radius:3px;background:var(--smw-ok);transition:width .3s}.smw-amber .smw-fill{background:var(--smw-amber)}.smw-red .smw-fill{background:var(--smw-red)}.smw-tick{position:absolute;top:0;bottom:0;width:1px;background:color-mix(in srgb,var(--smw-text) 45%,transparent)}.smw-spark{display:block;width:100%;height:56px;margin:4px 0 2px;background:var(--smw-bg2);border-radius:3px}.smw-spark .line,.smw-spark .area,.smw-spark .limit{pointer-events:none}.smw-spark .line{fill:none;stroke:var(--smw-line);stroke-width:1.5;vector-effect:non-scaling-stroke}.smw-spark .area{fill:color-mix(in srgb,var(--smw-line) 14%,transparent);stroke:none}.smw-spark .limit{stroke:var(--smw-red);stroke-width:1;stroke-dasharray:4 3;vector-effect:non-scaling-stroke}.smw-spark .run{fill:color-mix(in srgb,var(--smw-text) 10%,transparent);cursor:pointer}.smw-spark .run:hover{fill:color-mix(in srgb,var(--smw-text) 22%,transparent)}.smw-spark .run.selected{fill:color-mix(in srgb,var(--smw-line) 30%,transparent)}.smw-spark .edge{stroke:color-mix(in srgb,var(--smw-text) 40%,transparent);stroke-width:1;vector-effect:non-scaling-stroke;pointer-events:none}.smw-axis{display:flex;align-items:baseline;font-size:.68rem}.smw-axis-text{flex:1;display:flex;justify-content:space-between;opacity:.7}.smw-busy{font-weight:600}.smw-busy:empty,.smw-notes:empty{display:none}.smw-trend.warn{color:var(--smw-amber);font-weight:600}.smw-trend.bad{color:var(--smw-red);font-weight:600}.smw-dim{opacity:.7}.smw-notes{font-size:.72rem;opacity:.7}', M = /* @__PURE__ */ new WeakMap();
function V(n) {
  return n instanceof Uint8Array || n instanceof ArrayBuffer ? JSON.parse(new TextDecoder().decode(n)) : typeof n == "string" ? JSON.parse(n) : n;
}
const W = ({ data: n, parentElement: t, setStateValue: s }) => {
  let e = M.get(t);
  if (!e) {
    const i = document.createElement("style");
    i.textContent = j, t.appendChild(i);
    const r = { gauge: void 0, send: () => {
    } };
    r.gauge = new G(t, { select: (o) => r.send(o), resized: () => {
    } }), e = r, M.set(t, e);
  }
  return e.send = (i) => s("selected", i), e.gauge.update(V(n)), () => {
    e.gauge.destroy(), M.delete(t);
  };
};
export {
  W as default
};
