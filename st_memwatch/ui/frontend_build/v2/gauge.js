function w(r) {
  const t = r < 0 ? "-" : "";
  let e = Math.abs(r);
  for (const s of ["B", "KiB", "MiB", "GiB"]) {
    if (e < 1024 || s === "GiB") return s === "B" ? `${t}${e.toFixed(0)} B` : `${t}${e.toFixed(1)} ${s}`;
    e /= 1024;
  }
  return `${t}${e.toFixed(1)} GiB`;
}
function b(r) {
  return (r >= 0 ? "+" : "") + w(r);
}
function k(r) {
  return r < 1 ? `${Math.round(r * 1e3)} ms` : r < 10 ? `${r.toFixed(1)} s` : r < 90 ? `${r.toFixed(0)} s` : r < 5400 ? `${(r / 60).toFixed(0)} min` : r < 3 * 86400 ? `${(r / 3600).toFixed(1)} h` : `${(r / 86400).toFixed(0)} days`;
}
const $ = "st_memwatch_";
function T(r) {
  const t = /* @__PURE__ */ new Map();
  for (const e of r.split(`
`)) {
    if (!e.startsWith($)) continue;
    const s = e.lastIndexOf(" ");
    if (s < 0) continue;
    const i = e.slice(s + 1).trim(), n = i === "+Inf" || i === "inf" ? 1 / 0 : i === "-Inf" ? -1 / 0 : Number(i);
    (!Number.isNaN(n) || i === "NaN") && t.set(e.slice(0, s), n);
  }
  return t;
}
function L(r) {
  const t = (s, i = 0) => r.get($ + s) ?? i;
  if (!r.has($ + "rss_bytes")) return null;
  const e = r.get($ + "last_run_id");
  return {
    rss: t("rss_bytes"),
    limit: t("limit_bytes"),
    leak: t("leak") >= 1,
    secondsToLimit: t("seconds_to_limit", 1 / 0),
    growthPerRun: t("growth_bytes_per_run"),
    busy: t("runs_in_progress"),
    busySeconds: t("run_in_progress_seconds"),
    busyDelta: t("run_in_progress_delta_bytes"),
    lastRun: e === void 0 ? null : {
      id: e,
      delta: t("last_run_delta_bytes"),
      peak: t("run_peak_bytes"),
      duration: t("last_run_duration_seconds"),
      end: t("last_run_end_timestamp_seconds")
    },
    warnings: t('warnings{level="warning"}'),
    errors: t('warnings{level="error"}')
  };
}
const A = 1, S = 1e3, E = 3e4, I = 1e4, D = 4e3, P = 300, z = 900, N = 0.7, B = 0.9, O = "http://www.w3.org/2000/svg", y = 300, p = 56;
function a(r, t, e) {
  const s = document.createElement(r);
  return s.className = t, e?.appendChild(s), s;
}
function g(r, t, e) {
  const s = document.createElementNS(O, r);
  for (const [i, n] of Object.entries(t)) s.setAttribute(i, String(n));
  return e.appendChild(s), s;
}
class G {
  constructor(t, e) {
    this.host = e, this.data = null, this.live = null, this.liveOk = !1, this.liveAt = -1 / 0, this.failures = 0, this.polls = 0, this.skew = 0, this.points = [], this.runs = /* @__PURE__ */ new Map(), this.selected = null, this.stopped = !1, this.view = { start: 0, span: 1 }, this.onVisibility = () => {
      document.visibilityState === "visible" && this.schedule(0);
    }, this.root = a("div", "smw smw-ok", t), this.root.dataset.testid = "st-memwatch-gauge";
    const s = a("div", "smw-head", this.root);
    a("span", "smw-title", s).textContent = "Memory", this.now = a("span", "smw-now", s), this.of = a("span", "smw-of smw-dim", s), this.pct = a("span", "smw-pct", s);
    const i = a("div", "smw-bar", this.root);
    this.fill = a("div", "smw-fill", i);
    for (const o of [N, B])
      a("div", "smw-tick", i).style.left = `${o * 100}%`;
    this.spark = document.createElementNS(O, "svg"), this.spark.setAttribute("class", "smw-spark"), this.spark.setAttribute("viewBox", `0 0 ${y} ${p}`), this.spark.setAttribute("preserveAspectRatio", "none"), this.spark.addEventListener("click", (o) => this.onSparkClick(o)), this.root.appendChild(this.spark);
    const n = a("div", "smw-axis", this.root);
    this.axis = a("div", "smw-axis-text", n), this.liveMark = a("span", "smw-live", n), this.busy = a("div", "smw-busy", this.root), this.last = a("div", "smw-last", this.root), this.trend = a("div", "smw-trend", this.root), this.box = a("div", "smw-box", this.root), this.box.dataset.testid = "st-memwatch-box", this.box.setAttribute("role", "status"), this.notes = a("div", "smw-notes", this.root), document.addEventListener("visibilitychange", this.onVisibility);
  }
  /** New data from a script run. Live figures of later polls take precedence. */
  update(t) {
    const e = this.data === null, s = this.data?.metrics_url !== t.metrics_url;
    this.data = t, this.skew = Date.now() / 1e3 - t.server_now, t.selected !== null && (this.selected = t.selected);
    for (const i of t.runs) this.runs.set(i.id, i);
    (e || t.samples.length) && this.mergeSamples(t.samples), this.addPoint(t.server_now, t.rss), this.render(), (e || s) && t.metrics_url && this.schedule(0);
  }
  destroy() {
    this.stopped = !0, window.clearTimeout(this.timer), document.removeEventListener("visibilitychange", this.onVisibility), this.root.remove();
  }
  mergeSamples(t) {
    const e = this.points.length ? this.points[0][0] : 1 / 0, s = t.filter(([i]) => i < e);
    this.points = [...s, ...this.points];
  }
  addPoint(t, e) {
    const s = this.points.length;
    if (s && this.points[s - 1][0] >= t) return;
    this.points.push([t, e]);
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
      this.schedule(E);
      return;
    }
    this.polls++;
    const e = new AbortController(), s = window.setTimeout(() => e.abort(), D);
    try {
      const i = t.families.map((d) => `families=${encodeURIComponent(d)}`).join("&"), n = await fetch(i ? `${t.metrics_url}?${i}` : t.metrics_url, {
        cache: "no-store",
        credentials: "same-origin",
        signal: e.signal
      });
      if (!n.ok) throw new Error(`HTTP ${n.status}`);
      const o = L(T(await n.text()));
      if (o === null) throw new Error("no st_memwatch figures in the metrics");
      this.onLive(o), this.failures = 0, this.liveOk = !0, this.liveAt = Date.now() / 1e3 - this.skew;
    } catch {
      this.failures++, this.liveOk = !1;
    } finally {
      window.clearTimeout(s);
    }
    this.render(), this.schedule(this.liveOk ? S : Math.min(S * 2 ** this.failures, I));
  }
  onLive(t) {
    this.live = t, this.addPoint(Date.now() / 1e3 - this.skew, t.rss);
    const e = t.lastRun;
    e && !this.runs.has(e.id) && this.runs.set(e.id, {
      id: e.id,
      start: e.end - e.duration,
      duration: e.duration,
      delta: e.delta,
      peak: e.peak,
      outcome: ""
    });
  }
  render() {
    const t = this.data;
    if (!t) return;
    const e = this.liveOk ? this.live : null, s = e?.rss ?? t.rss, i = e && e.limit > 0 ? e.limit : t.limit, n = i > 0 ? s / i : 0, o = n >= B ? "smw-red" : n >= N ? "smw-amber" : "smw-ok";
    this.root.className = `smw ${o}`, this.root.dataset.live = this.liveOk ? "1" : "0", this.root.dataset.polls = String(this.polls), this.now.textContent = w(s), this.of.textContent = `of ${w(i)}`, this.of.title = t.limit_label, this.pct.textContent = `${Math.round(n * 100)}%`, this.fill.style.width = `${Math.min(100, n * 100).toFixed(1)}%`, this.liveMark.dataset.live = this.liveOk ? "1" : "0", this.liveMark.textContent = this.liveOk ? "live" : "not live", this.liveMark.title = this.liveOk ? "updated about once a second from /_stcore/metrics" : t.not_live_reason || "the metrics endpoint did not answer: figures are from the last script run", this.busy.textContent = e && e.busy > 0 ? `Run in progress, ${k(e.busySeconds)}, ${b(e.busyDelta)} so far` : "", this.renderLastRun(), this.renderTrend(s, i, e), this.renderBox(s, i, e), this.notes.textContent = t.notes.length ? `⚠ ${t.notes.join(" · ")}` : "", this.renderSpark(i), this.host.resized();
  }
  newestRun() {
    let t = null;
    for (const e of this.runs.values()) (!t || e.id > t.id) && (t = e);
    return t;
  }
  renderLastRun() {
    const t = this.selected !== null ? this.runs.get(this.selected) : void 0, e = t ?? this.newestRun();
    if (this.last.dataset.run = e ? String(e.id) : "", !e) {
      this.last.textContent = "No run recorded yet";
      return;
    }
    const s = t ? `Selected run #${e.id}` : `Last run #${e.id}`;
    this.last.textContent = `${s}: ${b(e.delta)}, peak ${w(e.peak)}, ${k(e.duration)}`;
  }
  renderTrend(t, e, s) {
    const i = this.data, n = s ? s.leak : i.leak, o = s ? s.growthPerRun : i.trend?.per_run ?? 0, d = s ? s.secondsToLimit : i.trend?.seconds_to_limit ?? 1 / 0;
    let l, c = "";
    e > 0 && t >= e ? (l = `Over the limit: ${w(t)} of ${w(e)}`, c = "bad") : o > 0 && Number.isFinite(d) && d < 7 * 86400 ? (l = `Growing ${b(o)}/run · limit in ~${k(d)}`, c = d < 1800 ? "bad" : "warn") : o > 0 && (s || i.trend) ? l = `Growing ${b(o)}/run · limit far away` : s || i.trend ? l = "Steady: no growth toward the limit" : l = "Trend: known after a few runs", n && (l = `Leak · ${l}`, c = "bad"), this.trend.textContent = l, this.trend.className = `smw-trend ${c}`;
  }
  /** The box the newest figures call for: the last render's, none, or one written from the live figures. */
  boxToShow(t, e, s) {
    const i = this.data, n = i.box ?? null;
    if (!s || this.liveAt < i.server_now) return n;
    const o = s.errors > 0 ? "error" : s.warnings > 0 ? "warning" : null;
    if (o === null) return null;
    if (n && n.leak === s.leak && n.level === o) return n;
    const d = e > 0 ? t / e : 0, l = `${Math.round(d * 100)}%`, c = `${b(s.growthPerRun)} per run`;
    let m;
    d >= 1 ? m = `Over the limit: ${w(t)} of ${w(e)}, a container would already have ended this app${s.leak ? `; memory grows ${c}` : ""}.` : s.leak && o === "error" && Number.isFinite(s.secondsToLimit) ? m = `Limit in ~${Math.max(1, Math.round(s.secondsToLimit / 60))} min: memory grows ${c}.` : s.leak && o === "error" ? m = `Memory grows ${c}, at ${l} of the limit.` : s.leak ? m = `Memory grows steadily: ${c}.` : m = `Memory is at ${l} of the limit.`;
    const u = n && n.leak === s.leak;
    return { level: o, leak: s.leak, title: m, cause: u ? n.cause : "", fix: u ? n.fix : "" };
  }
  renderBox(t, e, s) {
    const i = this.boxToShow(t, e, s);
    this.box.textContent = "", this.box.className = i ? `smw-box smw-box-${i.level === "error" ? "error" : "warning"}` : "smw-box", this.box.dataset.level = i ? i.level : "", i && (a("div", "smw-box-title", this.box).textContent = i.title, i.cause && (a("div", "smw-box-line", this.box).textContent = `Likely cause: ${i.cause}`), i.fix && (a("div", "smw-box-line", this.box).textContent = `Fix: ${i.fix}`));
  }
  renderSpark(t) {
    const e = this.spark;
    for (; e.firstChild; ) e.removeChild(e.firstChild);
    const s = this.points;
    if (!s.length) return;
    const i = Math.max(s[s.length - 1][0], Date.now() / 1e3 - this.skew), n = Math.max(s[0][0], i - P), o = Math.max(30, i - n), d = i - o, l = s.filter(([h]) => h >= d);
    let c = Math.min(...l.map(([, h]) => h)), m = Math.max(...l.map(([, h]) => h));
    const u = t > 0 && t <= m * 1.5;
    u && (m = Math.max(m, t)), c = Math.max(0, c - (m - c) * 0.1 - 1), m = m + (m - c) * 0.08 + 1, this.view = { start: d, span: o };
    const v = (h) => (h - d) / o * y, _ = (h) => p - (h - c) / (m - c) * p;
    for (const h of [...this.runs.values()].sort((x, f) => x.id - f.id)) {
      const x = h.start + h.duration;
      if (x < d) continue;
      const f = Math.min(y - 4, Math.max(0, v(h.start))), F = Math.min(y - f, Math.max(4, v(x) - f)), R = g(
        "rect",
        { x: f, y: 0, width: F, height: p, class: `run${h.id === this.selected ? " selected" : ""}`, "data-run": h.id },
        e
      );
      g("title", {}, R).textContent = `Run #${h.id}: ${b(h.delta)}, peak ${w(h.peak)}, ${k(h.duration)}`, g("line", { x1: f, x2: f, y1: 0, y2: p, class: "edge" }, e);
    }
    const C = l.map(([h, x]) => `${v(h).toFixed(1)},${_(x).toFixed(1)}`).join(" ");
    l.length > 1 && g("polygon", { points: `${v(l[0][0]).toFixed(1)},${p} ${C} ${v(l[l.length - 1][0]).toFixed(1)},${p}`, class: "area" }, e), g("polyline", { points: C, class: "line" }, e), u && g("line", { x1: 0, x2: y, y1: _(t), y2: _(t), class: "limit" }, e), this.axis.textContent = "", a("span", "", this.axis).textContent = `${k(o)} ago`, a("span", "", this.axis).textContent = u ? "- - limit" : `limit ${w(t)} off the chart`, a("span", "", this.axis).textContent = "now", this.axis.title = "the last minutes; shaded bands are script runs: click one for its details";
  }
  onSparkClick(t) {
    const e = this.spark.getBoundingClientRect();
    if (e.width <= 0) return;
    const { start: s, span: i } = this.view, n = s + (t.clientX - e.left) / e.width * i, o = 4 / e.width * i;
    let d = null, l = 1 / 0;
    for (const c of this.runs.values()) {
      const m = c.start + Math.max(c.duration, o), u = n < c.start ? c.start - n : n > m ? n - m : 0;
      u <= o && u < l && (d = c, l = u);
    }
    d && this.choose(d.id);
  }
  choose(t) {
    this.selected = t, this.render(), this.host.select({ v: A, run: t });
  }
}
const j = '.smw{--smw-text: var(--st-text-color, var(--text-color, #31333f));--smw-bg2: var(--st-secondary-background-color, var(--secondary-background-color, #f0f2f6));--smw-ok: var(--st-green-color, #21c354);--smw-amber: var(--st-orange-color, #ffa421);--smw-red: var(--st-red-color, #ff4b4b);--smw-line: var(--st-primary-color, var(--primary-color, #ff4b4b));font-family:var(--st-font, var(--font, "Source Sans Pro", sans-serif));color:var(--smw-text);font-size:.85rem;line-height:1.35;box-sizing:border-box;width:100%;padding:0 1px 2px}.smw *{box-sizing:border-box}.smw-head{display:flex;align-items:baseline;gap:.35em;flex-wrap:wrap}.smw-now,.smw-pct{font-weight:700;font-variant-numeric:tabular-nums}.smw-ok .smw-pct{color:var(--smw-ok)}.smw-amber .smw-pct{color:var(--smw-amber)}.smw-red .smw-pct{color:var(--smw-red)}.smw-live{font-size:.68rem;opacity:.75;white-space:nowrap;margin-left:.6em}.smw-live:before{content:"● ";color:var(--smw-ok)}.smw-live[data-live="0"]:before{content:"○ ";color:inherit}.smw-bar{position:relative;height:8px;border-radius:3px;margin:3px 0;background:color-mix(in srgb,var(--smw-text) 18%,transparent);overflow:hidden}.smw-fill{height:100%;border-radius:3px;background:var(--smw-ok);transition:width .3s}.smw-amber .smw-fill{background:var(--smw-amber)}.smw-red .smw-fill{background:var(--smw-red)}.smw-tick{position:absolute;top:0;bottom:0;width:1px;background:color-mix(in srgb,var(--smw-text) 45%,transparent)}.smw-spark{display:block;width:100%;height:56px;margin:4px 0 2px;background:var(--smw-bg2);border-radius:3px}.smw-spark .line,.smw-spark .area,.smw-spark .limit{pointer-events:none}.smw-spark .line{fill:none;stroke:var(--smw-line);stroke-width:1.5;vector-effect:non-scaling-stroke}.smw-spark .area{fill:color-mix(in srgb,var(--smw-line) 14%,transparent);stroke:none}.smw-spark .limit{stroke:var(--smw-red);stroke-width:1;stroke-dasharray:4 3;vector-effect:non-scaling-stroke}.smw-spark .run{fill:color-mix(in srgb,var(--smw-text) 10%,transparent);cursor:pointer}.smw-spark .run:hover{fill:color-mix(in srgb,var(--smw-text) 22%,transparent)}.smw-spark .run.selected{fill:color-mix(in srgb,var(--smw-line) 30%,transparent)}.smw-spark .edge{stroke:color-mix(in srgb,var(--smw-text) 40%,transparent);stroke-width:1;vector-effect:non-scaling-stroke;pointer-events:none}.smw-axis{display:flex;align-items:baseline;font-size:.68rem}.smw-axis-text{flex:1;display:flex;justify-content:space-between;opacity:.7}.smw-busy{font-weight:600}.smw-busy:empty,.smw-notes:empty,.smw-box:empty{display:none}.smw-box{margin:6px 0 2px;padding:6px 8px;border-radius:6px;overflow-wrap:break-word}.smw-box-warning{background:color-mix(in srgb,var(--smw-amber) 18%,transparent);color:color-mix(in srgb,var(--smw-amber) 45%,var(--smw-text))}.smw-box-error{background:color-mix(in srgb,var(--smw-red) 16%,transparent);color:color-mix(in srgb,var(--smw-red) 45%,var(--smw-text))}.smw-box-title{font-weight:700}.smw-box-line{margin-top:2px}.smw-trend.warn{color:var(--smw-amber);font-weight:600}.smw-trend.bad{color:var(--smw-red);font-weight:600}.smw-dim{opacity:.7}.smw-notes{font-size:.72rem;opacity:.7}', M = /* @__PURE__ */ new WeakMap();
function V(r) {
  return r instanceof Uint8Array || r instanceof ArrayBuffer ? JSON.parse(new TextDecoder().decode(r)) : typeof r == "string" ? JSON.parse(r) : r;
}
const W = ({ data: r, parentElement: t, setStateValue: e }) => {
  let s = M.get(t);
  if (!s) {
    const i = document.createElement("style");
    i.textContent = j, t.appendChild(i);
    const n = { gauge: void 0, send: () => {
    } };
    n.gauge = new G(t, { select: (o) => n.send(o), resized: () => {
    } }), s = n, M.set(t, s);
  }
  return s.send = (i) => e("selected", i), s.gauge.update(V(r)), () => {
    s.gauge.destroy(), M.delete(t);
  };
};
export {
  W as default
};
