// Components v2 (no iframe): Streamlit imports this module and calls its default
// export with the data of each script run. The gauge lives in the component's
// (shadow) root for as long as Streamlit keeps the element mounted; the selected
// run goes back to Python as a state value, which persists across reruns.

import type { FrontendRenderer, FrontendState } from "@streamlit/component-v2-lib"

import { Gauge, type GaugeData, type SelectMessage } from "./gauge"
import css from "./style.css?inline"

interface State extends FrontendState {
  selected: SelectMessage | null
}

interface Mounted {
  gauge: Gauge
  send: (message: SelectMessage) => void
}

const mounted = new WeakMap<object, Mounted>()

// Python sends the data as JSON bytes (cheaper to send than a dict, which Streamlit
// probes value by value for data frames); accept a parsed object too.
function decode(data: unknown): GaugeData {
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return JSON.parse(new TextDecoder().decode(data)) as GaugeData
  if (typeof data === "string") return JSON.parse(data) as GaugeData
  return data as GaugeData
}

const render: FrontendRenderer<State, unknown> = ({ data, parentElement, setStateValue }) => {
  let entry = mounted.get(parentElement)
  if (!entry) {
    const style = document.createElement("style")
    style.textContent = css
    parentElement.appendChild(style)
    const holder: Mounted = { gauge: undefined as unknown as Gauge, send: () => undefined }
    holder.gauge = new Gauge(parentElement, { select: (m) => holder.send(m), resized: () => undefined })
    entry = holder
    mounted.set(parentElement, entry)
  }
  entry.send = (message) => setStateValue("selected", message)
  entry.gauge.update(decode(data))
  return () => {
    entry.gauge.destroy()
    mounted.delete(parentElement)
  }
}

export default render
