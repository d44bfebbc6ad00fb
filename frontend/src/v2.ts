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

const render: FrontendRenderer<State, GaugeData> = ({ data, parentElement, setStateValue }) => {
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
  entry.gauge.update(data)
  return () => {
    entry.gauge.destroy()
    mounted.delete(parentElement)
  }
}

export default render
