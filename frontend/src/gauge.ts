// The gauge itself, shared by both component APIs: memory now against the limit,
// a sparkline of the last minutes with run boundaries and the limit, the trend in
// words, and the run under way. Python sends what it knew at the last script run;
// between runs the gauge polls the app's own /_stcore/metrics (the same figures
// Prometheus scrapes), so it keeps moving while the script is busy and shows a
// finished run without another rerun. When polling fails it keeps the last data
// and says "not live" in small print: never an error box.
//
// The gauge also carries the diagnosis box, so the box and the gauge tell one story
// at one moment. Python's box is the verdict as of the run's start; the polls say
// when the verdict changed at the run's end (a leak begins, grows nearer the limit,
// or ends). The box follows whichever is newer: no box once the live figures show no
// warning, and when they show another kind of verdict than the last render's, a box
// written from the live figures (Python's cause and fix come with the next render).

import { formatBytes, formatDuration, signedBytes } from "./format"
import { type Live, liveFigures, parseMetrics } from "./metrics"

export const MESSAGE_VERSION = 1
const POLL_MS = 1000
const HIDDEN_POLL_MS = 30_000 // a hidden tab looks again rarely, and at once when shown
const MAX_BACKOFF_MS = 10_000
const FETCH_TIMEOUT_MS = 4000
const WINDOW_S = 300 // the sparkline shows the last five minutes
const KEEP_S = 900
const AMBER = 0.7
const RED = 0.9
const SVG = "http://www.w3.org/2000/svg"
const W = 300
const H = 56

export interface RunMark {
  id: number
  start: number // Unix seconds (server clock)
  duration: number
  delta: number
  peak: number
  outcome: string
}

/** What Python sends at each script run (see st_memwatch/ui/component.py). */
export interface GaugeData {
  v: number
  metrics_url: string | null
  families: string[]
  not_live_reason: string
  server_now: number
  rss: number
  limit: number
  limit_label: string
  trend: { per_run: number; seconds_to_limit: number | null; n_runs: number } | null
  leak: boolean
  samples: [number, number][]
  runs: RunMark[]
  selected: number | null
  notes: string[]
  box?: BoxData | null
}

/** The diagnosis box of the last render (plain text; written with textContent). */
export interface BoxData {
  level: "warning" | "error" | "info"
  leak: boolean
  title: string
  cause: string
  fix: string
}

export interface SelectMessage {
  v: number
  run: number
}

export interface Host {
  select(message: SelectMessage): void
  resized(): void
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent?: Node): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  node.className = cls
  parent?.appendChild(node)
  return node
}

function svg(tag: string, attrs: Record<string, string | number>, parent: Node): SVGElement {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  parent.appendChild(node)
  return node
}

export class Gauge {
  private data: GaugeData | null = null
  private live: Live | null = null
  private liveOk = false
  private liveAt = -Infinity // server time of the last successful poll
  private failures = 0
  private polls = 0
  private timer: number | undefined
  private skew = 0 // browser clock minus server clock, seconds
  private points: [number, number][] = []
  private runs = new Map<number, RunMark>()
  private selected: number | null = null
  private stopped = false
  private view = { start: 0, span: 1 } // the sparkline's time window at its last drawing
  private readonly root: HTMLDivElement
  private readonly now: HTMLSpanElement
  private readonly of: HTMLSpanElement
  private readonly pct: HTMLSpanElement
  private readonly liveMark: HTMLSpanElement
  private readonly fill: HTMLDivElement
  private readonly spark: SVGSVGElement
  private readonly axis: HTMLDivElement
  private readonly busy: HTMLDivElement
  private readonly last: HTMLDivElement
  private readonly trend: HTMLDivElement
  private readonly notes: HTMLDivElement
  private readonly box: HTMLDivElement
  private readonly onVisibility = (): void => {
    if (document.visibilityState === "visible") this.schedule(0)
  }

  constructor(
    parent: Node,
    private readonly host: Host,
  ) {
    this.root = el("div", "smw smw-ok", parent)
    this.root.dataset.testid = "st-memwatch-gauge"
    const head = el("div", "smw-head", this.root)
    el("span", "smw-title", head).textContent = "Memory"
    this.now = el("span", "smw-now", head)
    this.of = el("span", "smw-of smw-dim", head)
    this.pct = el("span", "smw-pct", head)
    const bar = el("div", "smw-bar", this.root)
    this.fill = el("div", "smw-fill", bar)
    for (const share of [AMBER, RED]) {
      el("div", "smw-tick", bar).style.left = `${share * 100}%`
    }
    this.spark = document.createElementNS(SVG, "svg") as SVGSVGElement
    this.spark.setAttribute("class", "smw-spark")
    this.spark.setAttribute("viewBox", `0 0 ${W} ${H}`)
    this.spark.setAttribute("preserveAspectRatio", "none")
    // One listener on the chart, not one per run: the chart is redrawn every second,
    // and a click whose press and release fall on either side of a redraw must still count.
    this.spark.addEventListener("click", (event) => this.onSparkClick(event))
    this.root.appendChild(this.spark)
    const axisRow = el("div", "smw-axis", this.root)
    this.axis = el("div", "smw-axis-text", axisRow)
    this.liveMark = el("span", "smw-live", axisRow)
    this.busy = el("div", "smw-busy", this.root)
    this.last = el("div", "smw-last", this.root)
    this.trend = el("div", "smw-trend", this.root)
    this.box = el("div", "smw-box", this.root)
    this.box.dataset.testid = "st-memwatch-box"
    this.box.setAttribute("role", "status")
    this.notes = el("div", "smw-notes", this.root)
    document.addEventListener("visibilitychange", this.onVisibility)
  }

  /** New data from a script run. Live figures of later polls take precedence. */
  update(data: GaugeData): void {
    const first = this.data === null
    const urlChanged = this.data?.metrics_url !== data.metrics_url
    this.data = data
    this.skew = Date.now() / 1000 - data.server_now
    if (data.selected !== null) this.selected = data.selected // else keep the gauge's own last click
    for (const run of data.runs) this.runs.set(run.id, run)
    if (first || data.samples.length) this.mergeSamples(data.samples)
    this.addPoint(data.server_now, data.rss)
    this.render()
    if ((first || urlChanged) && data.metrics_url) this.schedule(0)
  }

  destroy(): void {
    this.stopped = true
    window.clearTimeout(this.timer)
    document.removeEventListener("visibilitychange", this.onVisibility)
    this.root.remove()
  }

  private mergeSamples(samples: [number, number][]): void {
    const newest = this.points.length ? this.points[0][0] : Infinity
    const older = samples.filter(([t]) => t < newest)
    this.points = [...older, ...this.points]
  }

  private addPoint(t: number, rss: number): void {
    const n = this.points.length
    if (n && this.points[n - 1][0] >= t) return
    this.points.push([t, rss])
    const cut = t - KEEP_S
    let drop = 0
    while (drop < this.points.length && this.points[drop][0] < cut) drop++
    if (drop) this.points.splice(0, drop)
  }

  private schedule(ms: number): void {
    window.clearTimeout(this.timer)
    if (this.stopped || !this.data?.metrics_url) return
    this.timer = window.setTimeout(() => void this.poll(), ms)
  }

  private async poll(): Promise<void> {
    const data = this.data
    if (!data?.metrics_url || this.stopped) return
    if (document.visibilityState === "hidden" && this.polls > 0) {
      this.schedule(HIDDEN_POLL_MS)
      return
    }
    this.polls++
    const abort = new AbortController()
    const timeout = window.setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS)
    try {
      const query = data.families.map((f) => `families=${encodeURIComponent(f)}`).join("&")
      const resp = await fetch(query ? `${data.metrics_url}?${query}` : data.metrics_url, {
        cache: "no-store",
        credentials: "same-origin",
        signal: abort.signal,
      })
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`)
      const live = liveFigures(parseMetrics(await resp.text()))
      if (live === null) throw new Error("no st_memwatch figures in the metrics")
      this.onLive(live)
      this.failures = 0
      this.liveOk = true
      this.liveAt = Date.now() / 1000 - this.skew
    } catch {
      this.failures++
      this.liveOk = false
    } finally {
      window.clearTimeout(timeout)
    }
    this.render()
    this.schedule(this.liveOk ? POLL_MS : Math.min(POLL_MS * 2 ** this.failures, MAX_BACKOFF_MS))
  }

  private onLive(live: Live): void {
    this.live = live
    this.addPoint(Date.now() / 1000 - this.skew, live.rss)
    const last = live.lastRun
    if (last && !this.runs.has(last.id)) {
      this.runs.set(last.id, {
        id: last.id,
        start: last.end - last.duration,
        duration: last.duration,
        delta: last.delta,
        peak: last.peak,
        outcome: "",
      })
    }
  }

  private render(): void {
    const data = this.data
    if (!data) return
    const live = this.liveOk ? this.live : null
    // The figures, the trend and the box come from the newest word, the last poll or the
    // last render, so that they never tell two stories (a render right after a poll wins).
    const newest = live && this.liveAt >= data.server_now ? live : null
    const rss = newest?.rss ?? data.rss
    const limit = newest && newest.limit > 0 ? newest.limit : data.limit
    const share = limit > 0 ? rss / limit : 0
    const level = share >= RED ? "smw-red" : share >= AMBER ? "smw-amber" : "smw-ok"
    this.root.className = `smw ${level}`
    this.root.dataset.live = this.liveOk ? "1" : "0"
    this.root.dataset.polls = String(this.polls)
    this.now.textContent = formatBytes(rss)
    this.of.textContent = `of ${formatBytes(limit)}`
    this.of.title = data.limit_label
    this.pct.textContent = `${Math.round(share * 100)}%`
    this.fill.style.width = `${Math.min(100, share * 100).toFixed(1)}%`
    this.liveMark.dataset.live = this.liveOk ? "1" : "0"
    this.liveMark.textContent = this.liveOk ? "live" : "not live"
    this.liveMark.title = this.liveOk
      ? "updated about once a second from /_stcore/metrics"
      : data.not_live_reason || "the metrics endpoint did not answer: figures are from the last script run"

    this.busy.textContent =
      live && live.busy > 0
        ? `Run in progress, ${formatDuration(live.busySeconds)}, ${signedBytes(live.busyDelta)} so far`
        : ""
    this.renderLastRun()
    this.renderTrend(rss, limit, newest)
    this.renderBox(rss, limit, newest)
    this.notes.textContent = data.notes.length ? `⚠ ${data.notes.join(" · ")}` : ""
    this.renderSpark(limit)
    this.host.resized()
  }

  private newestRun(): RunMark | null {
    let newest: RunMark | null = null
    for (const run of this.runs.values()) if (!newest || run.id > newest.id) newest = run
    return newest
  }

  private renderLastRun(): void {
    const chosen = this.selected !== null ? this.runs.get(this.selected) : undefined
    const run = chosen ?? this.newestRun()
    this.last.dataset.run = run ? String(run.id) : ""
    if (!run) {
      this.last.textContent = "No run recorded yet"
      return
    }
    const label = chosen ? `Selected run #${run.id}` : `Last run #${run.id}`
    this.last.textContent = `${label}: ${signedBytes(run.delta)}, peak ${formatBytes(run.peak)}, ${formatDuration(run.duration)}`
  }

  private renderTrend(rss: number, limit: number, live: Live | null): void {
    const data = this.data!
    const leak = live ? live.leak : data.leak
    const perRun = live ? live.growthPerRun : (data.trend?.per_run ?? 0)
    const secs = live ? live.secondsToLimit : (data.trend?.seconds_to_limit ?? Infinity)
    let text: string
    let cls = ""
    if (limit > 0 && rss >= limit) {
      text = `Over the limit: ${formatBytes(rss)} of ${formatBytes(limit)}`
      cls = "bad"
    } else if (perRun > 0 && Number.isFinite(secs) && secs < 7 * 86400) {
      text = `Growing ${signedBytes(perRun)}/run · limit in ~${formatDuration(secs)}`
      cls = secs < 1800 ? "bad" : "warn"
    } else if (perRun > 0 && (live || data.trend)) {
      text = `Growing ${signedBytes(perRun)}/run · limit far away`
    } else if (live || data.trend) {
      text = "Steady: no growth toward the limit"
    } else {
      text = "Trend: known after a few runs"
    }
    if (leak) {
      text = `Leak · ${text}`
      cls = "bad"
    }
    this.trend.textContent = text
    this.trend.className = `smw-trend ${cls}`
  }

  /** The box the newest figures call for: the last render's, none, or one written from the live figures (``live`` when newer). */
  private boxToShow(rss: number, limit: number, live: Live | null): BoxData | null {
    const data = this.data!
    const rendered = data.box ?? null
    if (!live) return rendered // the render is the newest word
    const level = live.errors > 0 ? "error" : live.warnings > 0 ? "warning" : null
    if (level === null) return null // the episode is over
    if (rendered && rendered.leak === live.leak && rendered.level === level) return rendered
    const share = limit > 0 ? rss / limit : 0
    const pct = `${Math.round(share * 100)}%`
    const rate = `${signedBytes(live.growthPerRun)} per run`
    let title: string
    if (share >= 1) {
      title = `Over the limit: ${formatBytes(rss)} of ${formatBytes(limit)}, a container would already have ended this app${live.leak ? `; memory grows ${rate}` : ""}.`
    } else if (live.leak && level === "error" && Number.isFinite(live.secondsToLimit)) {
      title = `Limit in ~${Math.max(1, Math.round(live.secondsToLimit / 60))} min: memory grows ${rate}.`
    } else if (live.leak && level === "error") {
      title = `Memory grows ${rate}, at ${pct} of the limit.`
    } else if (live.leak) {
      title = `Memory grows steadily: ${rate}.`
    } else {
      title = `Memory is at ${pct} of the limit.`
    }
    // The same verdict, grown nearer the limit: its cause and fix still hold.
    const same = rendered && rendered.leak === live.leak
    return { level, leak: live.leak, title, cause: same ? rendered.cause : "", fix: same ? rendered.fix : "" }
  }

  private renderBox(rss: number, limit: number, live: Live | null): void {
    const box = this.boxToShow(rss, limit, live)
    this.box.textContent = ""
    this.box.className = box ? `smw-box smw-box-${box.level === "error" ? "error" : "warning"}` : "smw-box"
    this.box.dataset.level = box ? box.level : ""
    if (!box) return
    el("div", "smw-box-title", this.box).textContent = box.title
    if (box.cause) el("div", "smw-box-line", this.box).textContent = `Likely cause: ${box.cause}`
    if (box.fix) el("div", "smw-box-line", this.box).textContent = `Fix: ${box.fix}`
  }

  private renderSpark(limit: number): void {
    const spark = this.spark
    while (spark.firstChild) spark.removeChild(spark.firstChild)
    const pts = this.points
    if (!pts.length) return
    const t1 = Math.max(pts[pts.length - 1][0], Date.now() / 1000 - this.skew)
    const t0 = Math.max(pts[0][0], t1 - WINDOW_S)
    const span = Math.max(30, t1 - t0)
    const start = t1 - span
    const shown = pts.filter(([t]) => t >= start)
    let lo = Math.min(...shown.map(([, v]) => v))
    let hi = Math.max(...shown.map(([, v]) => v))
    const limitOnChart = limit > 0 && limit <= hi * 1.5
    if (limitOnChart) hi = Math.max(hi, limit)
    lo = Math.max(0, lo - (hi - lo) * 0.1 - 1)
    hi = hi + (hi - lo) * 0.08 + 1
    this.view = { start, span }
    const x = (t: number): number => ((t - start) / span) * W
    const y = (v: number): number => H - ((v - lo) / (hi - lo)) * H
    for (const run of [...this.runs.values()].sort((a, b) => a.id - b.id)) {
      const end = run.start + run.duration
      if (end < start) continue
      const left = Math.min(W - 4, Math.max(0, x(run.start)))
      const width = Math.min(W - left, Math.max(4, x(end) - left))
      const rect = svg(
        "rect",
        { x: left, y: 0, width, height: H, class: `run${run.id === this.selected ? " selected" : ""}`, "data-run": run.id },
        spark,
      )
      svg("title", {}, rect).textContent =
        `Run #${run.id}: ${signedBytes(run.delta)}, peak ${formatBytes(run.peak)}, ${formatDuration(run.duration)}`
      svg("line", { x1: left, x2: left, y1: 0, y2: H, class: "edge" }, spark)
    }
    const line = shown.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ")
    if (shown.length > 1) {
      svg("polygon", { points: `${x(shown[0][0]).toFixed(1)},${H} ${line} ${x(shown[shown.length - 1][0]).toFixed(1)},${H}`, class: "area" }, spark)
    }
    svg("polyline", { points: line, class: "line" }, spark)
    if (limitOnChart) svg("line", { x1: 0, x2: W, y1: y(limit), y2: y(limit), class: "limit" }, spark)
    this.axis.textContent = ""
    el("span", "", this.axis).textContent = `${formatDuration(span)} ago`
    el("span", "", this.axis).textContent = limitOnChart ? "- - limit" : `limit ${formatBytes(limit)} off the chart`
    el("span", "", this.axis).textContent = "now"
    this.axis.title = "the last minutes; shaded bands are script runs: click one for its details"
  }

  private onSparkClick(event: MouseEvent): void {
    const box = this.spark.getBoundingClientRect()
    if (box.width <= 0) return
    const { start, span } = this.view
    const t = start + ((event.clientX - box.left) / box.width) * span
    const slack = (4 / box.width) * span // a short run is drawn at least 4 px wide
    let best: RunMark | null = null
    let bestDistance = Infinity
    for (const run of this.runs.values()) {
      const end = run.start + Math.max(run.duration, slack)
      const distance = t < run.start ? run.start - t : t > end ? t - end : 0
      if (distance <= slack && distance < bestDistance) {
        best = run
        bestDistance = distance
      }
    }
    if (best) this.choose(best.id)
  }

  private choose(id: number): void {
    this.selected = id
    this.render()
    this.host.select({ v: MESSAGE_VERSION, run: id })
  }
}
