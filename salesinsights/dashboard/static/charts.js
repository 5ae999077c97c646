// Small hand-written charts (HTML bars, SVG area): no library, no network, redrawn in place on each update.

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function html(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Ranked horizontal bars. items: [{key, label, sublabel, value, valueText, note, productId}]
export function rankedBars(container, items, emptyText) {
  container.replaceChildren();
  if (!items.length) {
    container.appendChild(html("p", "empty", emptyText));
    return;
  }
  const largest = Math.max(...items.map((item) => item.value), 1e-9);
  for (const item of items) {
    const row = html("div", "bar-row");
    if (item.productId !== undefined) row.dataset.productId = String(item.productId);
    const label = html("div", "bar-label");
    label.appendChild(html("span", "bar-name", item.label));
    if (item.sublabel) label.appendChild(html("span", "bar-sub", item.sublabel));
    const track = html("div", "bar-track");
    const fill = html("div", "bar-fill");
    fill.style.width = `${Math.max((item.value / largest) * 100, 1.5)}%`;
    track.appendChild(fill);
    const value = html("div", "bar-value", item.valueText);
    if (item.note) value.appendChild(html("small", "", item.note));
    row.append(label, track, value);
    container.appendChild(row);
  }
}

// A value scale's tick step: 1, 2 or 5 times a power of ten, about `count` ticks over [0, max].
function niceStep(max, count) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => raw <= step) ?? 10 * power;
}

// Area chart of revenue over one day (x: 00:00–24:00 UTC). points: [{start: Date, value, units}]. A last
// bucket still filling is drawn dashed, so that its smaller value does not read as a drop in sales.
export function dayArea(container, points, { dayStart, bucketMinutes, formatValue, emptyText, lastInProgress }) {
  container.replaceChildren();
  if (!points.length) {
    container.appendChild(html("p", "empty", emptyText));
    return;
  }
  const width = 760, height = 240, left = 64, right = 14, top = 12, bottom = 28;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Revenue over the day" }, container);
  const dayMs = 24 * 3600 * 1000;
  const bucketMs = bucketMinutes * 60 * 1000;
  const x = (time) => left + ((time - dayStart) / dayMs) * (width - left - right);
  const maxValue = Math.max(...points.map((point) => point.value), 1);
  const step = niceStep(maxValue, 4);
  const yMax = Math.ceil(maxValue / step) * step;
  const y = (value) => height - bottom - (value / yMax) * (height - top - bottom);

  for (let tick = 0; tick <= yMax + 1e-9; tick += step) {
    svg("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: "grid" }, chart);
    svg("text", { x: left - 8, y: y(tick) + 4, class: "axis", "text-anchor": "end" }, chart).textContent = formatValue(tick);
  }
  for (let hour = 0; hour <= 24; hour += 3) {
    const at = x(dayStart.getTime() + hour * 3600 * 1000);
    svg("line", { x1: at, x2: at, y1: height - bottom, y2: height - bottom + 4, class: "grid" }, chart);
    svg("text", { x: at, y: height - 8, class: "axis", "text-anchor": "middle" }, chart).textContent = `${String(hour).padStart(2, "0")}:00`;
  }

  // Each bucket's value is drawn at the bucket's middle.
  const coordinates = points.map((point) => [x(point.start.getTime() + bucketMs / 2), y(point.value)]);
  const path = (from) => from.map(([px, py], index) => `${index ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
  const complete = lastInProgress && coordinates.length > 1 ? coordinates.slice(0, -1) : coordinates;
  const first = coordinates[0], last = coordinates[coordinates.length - 1], settled = complete[complete.length - 1];
  svg("path", { d: `${path(complete)} L${settled[0].toFixed(1)},${y(0)} L${first[0].toFixed(1)},${y(0)} Z`, class: "area-fill" }, chart);
  svg("path", { d: path(complete), class: "area-line" }, chart);
  if (complete !== coordinates) svg("path", { d: path([settled, last]), class: "area-line in-progress" }, chart);
  svg("circle", { cx: last[0], cy: last[1], r: 4, class: "area-now" }, chart);

  const tooltip = html("div", "tooltip");
  tooltip.hidden = true;
  container.appendChild(tooltip);
  const hover = svg("line", { y1: top, y2: height - bottom, class: "hover-line", visibility: "hidden" }, chart);
  chart.addEventListener("mousemove", (event) => {
    const box = chart.getBoundingClientRect();
    const atX = ((event.clientX - box.left) / box.width) * width;
    let nearest = 0;
    coordinates.forEach(([px], index) => {
      if (Math.abs(px - atX) < Math.abs(coordinates[nearest][0] - atX)) nearest = index;
    });
    const point = points[nearest];
    hover.setAttribute("x1", coordinates[nearest][0]);
    hover.setAttribute("x2", coordinates[nearest][0]);
    hover.setAttribute("visibility", "visible");
    const from = point.start.toISOString().slice(11, 16);
    const to = new Date(point.start.getTime() + bucketMs).toISOString().slice(11, 16);
    tooltip.textContent = `${from}–${to} UTC · ${formatValue(point.value)} · ${point.units} units`;
    tooltip.style.left = `${(coordinates[nearest][0] / width) * 100}%`;
    tooltip.hidden = false;
  });
  chart.addEventListener("mouseleave", () => {
    hover.setAttribute("visibility", "hidden");
    tooltip.hidden = true;
  });
}

// Funnel stages as bars relative to the first stage, with the step conversion between them.
// stages: [{label, value}]
export function funnelBars(container, stages, formatCount, emptyText) {
  container.replaceChildren();
  if (!stages.length || !stages[0].value) {
    container.appendChild(html("p", "empty", emptyText));
    return;
  }
  stages.forEach((stage, index) => {
    if (index > 0) {
      const previous = stages[index - 1].value;
      const rate = previous ? (stage.value / previous) * 100 : 0;
      container.appendChild(html("div", "funnel-step", `↓ ${rate.toFixed(1)}% of ${stages[index - 1].label.toLowerCase()}`));
    }
    const row = html("div", "funnel-row");
    const bar = html("div", "funnel-bar");
    // A square-root scale keeps the purchases visible next to many more views.
    bar.style.width = `${Math.max(Math.sqrt(stage.value / stages[0].value) * 100, 2)}%`;
    bar.dataset.stage = stage.label.toLowerCase();
    row.append(html("span", "funnel-label", stage.label), bar, html("span", "funnel-value", formatCount(stage.value)));
    container.appendChild(row);
  });
}
