// Sizes and durations in words, the way the Python panel writes them. A no-break
// space joins number and unit, so a narrow sidebar wraps between figures, not inside one.

const NB = "\u00a0"

export function formatBytes(n: number): string {
  const sign = n < 0 ? "-" : ""
  let v = Math.abs(n)
  for (const unit of ["B", "KiB", "MiB", "GiB"]) {
    if (v < 1024 || unit === "GiB") return unit === "B" ? `${sign}${v.toFixed(0)}${NB}B` : `${sign}${v.toFixed(1)}${NB}${unit}`
    v /= 1024
  }
  return `${sign}${v.toFixed(1)}${NB}GiB`
}

export function signedBytes(n: number): string {
  return (n >= 0 ? "+" : "") + formatBytes(n)
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}${NB}ms`
  if (seconds < 10) return `${seconds.toFixed(1)}${NB}s`
  if (seconds < 90) return `${seconds.toFixed(0)}${NB}s`
  if (seconds < 5400) return `${(seconds / 60).toFixed(0)}${NB}min`
  if (seconds < 3 * 86400) return `${(seconds / 3600).toFixed(1)}${NB}h`
  return `${(seconds / 86400).toFixed(0)}${NB}days`
}
