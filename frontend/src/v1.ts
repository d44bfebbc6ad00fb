// Components v1 (Streamlit before components v2): the gauge inside an iframe
// page served by Streamlit. streamlit-component-lib carries the render events in
// and the selected run out; the iframe's height follows the gauge.

import { type RenderData, Streamlit } from "streamlit-component-lib/dist/streamlit"

import { Gauge, type GaugeData } from "./gauge"
import css from "./style.css?inline"

const style = document.createElement("style")
style.dataset.stMemwatch = "1"
style.textContent = css
document.head.appendChild(style)

const root = document.getElementById("root") ?? document.body
const gauge = new Gauge(root, {
  select: (message) => Streamlit.setComponentValue(message),
  resized: () => Streamlit.setFrameHeight(),
})

Streamlit.events.addEventListener(Streamlit.RENDER_EVENT, (event: Event) => {
  const detail = (event as CustomEvent<RenderData>).detail
  // The library adds a theme <style> on every render: keep only the newest one.
  const themes = [...document.head.querySelectorAll("style:not([data-st-memwatch])")]
  themes.slice(0, -1).forEach((node) => node.remove())
  gauge.update(detail.args.data as GaugeData)
})
new ResizeObserver(() => Streamlit.setFrameHeight()).observe(root)
Streamlit.setComponentReady()
