// Reads st_memwatch's families out of the OpenMetrics text of /_stcore/metrics.
// Only sample lines of our own prefix are kept; labels are fixed words, so a
// sample's key is its name plus the label text as written ("a{k=\"v\"}").

export type Samples = Map<string, number>

const PREFIX = "st_memwatch_"

export function parseMetrics(text: string): Samples {
  const out: Samples = new Map()
  for (const line of text.split("\n")) {
    if (!line.startsWith(PREFIX)) continue
    const space = line.lastIndexOf(" ")
    if (space < 0) continue
    const raw = line.slice(space + 1).trim()
    const value = raw === "+Inf" || raw === "inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw)
    if (!Number.isNaN(value) || raw === "NaN") out.set(line.slice(0, space), value)
  }
  return out
}

/** The live figures the gauge shows, or null when the text holds none of ours. */
export interface Live {
  rss: number
  limit: number
  leak: boolean
  secondsToLimit: number
  growthPerRun: number
  busy: number
  busySeconds: number
  busyDelta: number
  lastRun: { id: number; delta: number; peak: number; duration: number; end: number } | null
  warnings: number
  errors: number
}

export function liveFigures(s: Samples): Live | null {
  const get = (name: string, fallback = 0): number => s.get(PREFIX + name) ?? fallback
  if (!s.has(PREFIX + "rss_bytes")) return null
  const id = s.get(PREFIX + "last_run_id")
  return {
    rss: get("rss_bytes"),
    limit: get("limit_bytes"),
    leak: get("leak") >= 1,
    secondsToLimit: get("seconds_to_limit", Infinity),
    growthPerRun: get("growth_bytes_per_run"),
    busy: get("runs_in_progress"),
    busySeconds: get("run_in_progress_seconds"),
    busyDelta: get("run_in_progress_delta_bytes"),
    lastRun:
      id === undefined
        ? null
        : {
            id,
            delta: get("last_run_delta_bytes"),
            peak: get("run_peak_bytes"),
            duration: get("last_run_duration_seconds"),
            end: get("last_run_end_timestamp_seconds"),
          },
    warnings: get('warnings{level="warning"}'),
    errors: get('warnings{level="error"}'),
  }
}
