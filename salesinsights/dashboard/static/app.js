// The live page: polls /api/overview every second and redraws in place (no reload). Event times are the
// replayed shop's (2019–2020), wall-clock ages are this platform's; labels say which is which.
import { dayArea, funnelBars, rankedBars } from "./charts.js";

const POLL_MS = 1000;
const REQUEST_TIMEOUT_MS = 5000;
const LIVE_SECONDS = 5;
const STALE_SECONDS = 60;

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const moneyShort = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });
const count = new Intl.NumberFormat("en-US");
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 2 });

const $ = (id) => document.getElementById(id);
const hhmm = (iso) => iso.slice(11, 16);
const plural = (n, word) => `${count.format(n)} ${word}${n === 1 ? "" : "s"}`;
const params = new URLSearchParams(location.search);
let spanWindows = Number(params.get("windows")) || 60;
let latest = null; // the last overview, and when it arrived (for the ticking freshness age)
let receivedAt = 0;
let failures = 0;

function productLabel(row) {
  return { label: `#${row.product_id}`, sublabel: row.brand ?? "brand unknown" };
}

function renderHeader(data) {
  const fresh = data.freshness;
  $("day-line").textContent = data.day
    ? `Day ${data.day} (event time) · newest purchase window ${hhmm(fresh.newest_window_start)}–${hhmm(fresh.newest_window_end)} UTC (event time)`
    : "Waiting for the stream to write gold…";
  for (const button of document.querySelectorAll("[data-windows]")) {
    button.classList.toggle("active", Number(button.dataset.windows) === spanWindows);
  }
}

function renderFreshness() {
  const box = $("freshness");
  if (failures > 0) {
    box.className = "freshness stale";
    $("freshness-label").textContent = "Connection lost";
    $("freshness-detail").textContent = `retrying (${failures} failed)`;
    return;
  }
  if (!latest || latest.freshness.gold_age_seconds === null) {
    box.className = "freshness waiting";
    $("freshness-label").textContent = "Waiting for gold";
    $("freshness-detail").textContent = "no purchase written yet";
    return;
  }
  const age = latest.freshness.gold_age_seconds + (Date.now() - receivedAt) / 1000;
  const state = age <= LIVE_SECONDS ? "live" : age <= STALE_SECONDS ? "behind" : "stale";
  box.className = `freshness ${state}`;
  $("freshness-label").textContent = state === "live" ? "Live" : state === "behind" ? "Behind" : "Stale";
  $("freshness-detail").textContent = `gold updated ${age < 10 ? age.toFixed(1) : Math.round(age)} s ago (wall clock)`;
  box.title = `Newest gold update ${latest.freshness.gold_updated_at} (wall clock); newest purchase window `
    + `${latest.freshness.newest_window_start} (event time)`;
}

function renderKpis(data) {
  const totals = data.day_totals;
  $("kpi-revenue").textContent = totals ? money.format(totals.revenue) : "–";
  $("kpi-units").textContent = totals ? count.format(totals.units) : "–";
  $("kpi-units-note").textContent = totals ? `${count.format(totals.carts)} added to carts` : "\u00a0";
  const recent = data.recent;
  $("kpi-recent-title").textContent = `Revenue, latest ${recent.span?.windows ?? spanWindows} window${spanWindows === 1 ? "" : "s"}`;
  $("kpi-recent").textContent = recent.span ? money.format(recent.revenue) : "–";
  $("kpi-recent-note").textContent = recent.span
    ? `${count.format(recent.units)} units · ${count.format(recent.products_total)} products`
    : "\u00a0";
  const rate = data.funnel.view_to_purchase;
  $("kpi-conversion").textContent = rate === null ? "–" : percent.format(rate);
  const perSecond = data.stream.records_per_second;
  // One decimal below 10/s: a trickle is not a stall.
  $("kpi-stream").textContent = perSecond === null ? "–" : perSecond < 10 ? perSecond.toFixed(1) : count.format(Math.round(perSecond));
}

function renderPerProduct(data) {
  const recent = data.recent;
  const span = recent.span;
  $("per-product-title").textContent = `Revenue per product · latest ${span?.windows ?? spanWindows} window${(span?.windows ?? spanWindows) === 1 ? "" : "s"}`;
  $("per-product-span").textContent = span
    ? `${span.first_window_start.slice(0, 16).replace("T", " ")} – ${hhmm(span.end)} UTC (event time) · top ${recent.products.length} of ${count.format(recent.products_total)} products`
    : "";
  rankedBars(
    $("per-product-chart"),
    recent.products.map((row) => ({
      ...productLabel(row),
      productId: row.product_id,
      value: row.revenue,
      valueText: money.format(row.revenue),
      note: `${plural(row.units, "unit")} · ${plural(row.buyers, "buyer")}`,
    })),
    "No purchases in these windows",
  );
}

function renderTimeline(data) {
  const timeline = data.timeline;
  const lastPoint = timeline.points[timeline.points.length - 1];
  const bucketMs = timeline.bucket_minutes * 60 * 1000;
  const lastInProgress = Boolean(lastPoint && data.freshness.newest_window_end)
    && new Date(data.freshness.newest_window_end) < new Date(new Date(lastPoint.start).getTime() + bucketMs);
  $("timeline-note").textContent = timeline.day
    ? `${timeline.day} (event time, UTC) · ${timeline.bucket_minutes}-minute buckets · ${money.format(timeline.revenue)} in on-time purchases`
    : "";
  dayArea(
    $("timeline-chart"),
    timeline.points.map((point) => ({ start: new Date(point.start), value: point.revenue, units: point.units })),
    {
      dayStart: new Date(`${timeline.day}T00:00:00Z`),
      bucketMinutes: timeline.bucket_minutes,
      formatValue: (value) => moneyShort.format(value),
      emptyText: "No purchases yet today",
      lastInProgress,
    },
  );
}

function renderTops(data) {
  rankedBars(
    $("top-products-chart"),
    data.top_products.entries.map((entry) => ({
      label: `${entry.rank}. #${entry.product_id}`,
      sublabel: entry.brand ?? "brand unknown",
      productId: entry.product_id,
      value: entry.revenue,
      valueText: money.format(entry.revenue),
      note: plural(entry.units, "unit"),
    })),
    "No purchases yet today",
  );
  const brands = data.top_brands;
  $("top-brands-note").textContent = brands.unbranded_revenue
    ? `by revenue · ${money.format(brands.unbranded_revenue)} from products without a brand`
    : "by revenue";
  rankedBars(
    $("top-brands-chart"),
    brands.entries.map((entry) => ({
      label: `${entry.rank}. ${entry.brand}`,
      sublabel: plural(entry.products, "product"),
      value: entry.revenue,
      valueText: money.format(entry.revenue),
      note: plural(entry.units, "unit"),
    })),
    "No branded purchases yet today",
  );
}

function renderFunnel(data) {
  const funnel = data.funnel;
  funnelBars(
    $("funnel-chart"),
    [
      { label: "Views", value: funnel.views },
      { label: "Carts", value: funnel.carts },
      { label: "Purchases", value: funnel.purchases },
    ],
    (value) => count.format(value),
    "No events yet today",
  );
}

function renderLatestWindow(data) {
  const window = data.latest_window;
  $("latest-window-span").textContent = window.span
    ? `${window.span.last_window_start.slice(0, 16).replace("T", " ")}–${hhmm(window.span.end)} UTC (event time) · ${money.format(window.revenue)}`
    : "";
  const body = $("latest-window-rows");
  body.replaceChildren();
  if (!window.products.length) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 4;
    cell.className = "muted";
    cell.textContent = "No purchases yet";
    return;
  }
  for (const product of window.products) {
    const row = body.insertRow();
    row.dataset.productId = String(product.product_id);
    row.insertCell().textContent = `#${product.product_id}`;
    row.insertCell().textContent = product.brand ?? "–";
    const units = row.insertCell();
    units.className = "num";
    units.textContent = count.format(product.units);
    const revenue = row.insertCell();
    revenue.className = "num";
    revenue.textContent = money.format(product.revenue);
  }
}

function renderPipeline(data) {
  const stream = data.stream;
  const fresh = data.freshness;
  if (stream.last_batch_id === null) {
    $("pipeline").textContent = "Stream: no micro-batch in the audit table yet.";
    return;
  }
  const finished = new Date(stream.last_batch_finished_at);
  const parts = [
    `Stream: batch ${stream.last_batch_id} finished ${finished.toISOString().slice(11, 19)} UTC (wall clock)`,
    `${stream.late_events_last_minute} late and ${stream.quarantined_last_minute} quarantined events in the last minute`,
    fresh.newest_event_time ? `newest event ${fresh.newest_event_time.slice(0, 19).replace("T", " ")} (event time)` : null,
    fresh.watermark ? `watermark ${fresh.watermark.slice(0, 19).replace("T", " ")} (event time)` : null,
  ];
  $("pipeline").textContent = parts.filter(Boolean).join(" · ");
}

function topReasons(reasons) {
  return Object.entries(reasons).slice(0, 3).map(([reason, n]) => `${reason} ${count.format(n)}`).join(", ");
}

function renderInputQuality(data) {
  const quality = data.input_quality;
  if (quality.refreshed_at === null) {
    $("input-quality").textContent = "Bad input: not counted yet.";
    return;
  }
  const letters = quality.dead_letters_readable ? count.format(quality.dead_letters) : "? (topic unreadable)";
  const parts = [
    `Bad input: ${count.format(quality.quarantined)} quarantined` +
      (quality.quarantined ? ` (${topReasons(quality.quarantine_reasons)})` : ""),
    `${letters} dead letters` + (quality.dead_letters ? ` (${topReasons(quality.dead_letter_reasons)})` : ""),
  ];
  const last = quality.last_validation;
  if (last) {
    const verdict = last.critical_failures.length
      ? `FAILED ${last.critical_failures.length} critical: ${last.critical_failures.slice(0, 3).join("; ")}`
      : `passed (${last.warnings} warnings)`;
    parts.push(`Data quality of ${last.day}: ${verdict}`);
  }
  $("input-quality").textContent = parts.join(" · ");
}

// The nightly CLV snapshot changes once a night: asked once a minute, apart from the overview.
const CLV_POLL_MS = 60_000;

function renderClv(status) {
  const run = status.latest;
  const footer = $("clv");
  if (!run) {
    footer.textContent = "Customer lifetime value: no snapshot published yet.";
    return;
  }
  const error = run.holdout_error === null
    ? "no holdout error"
    : `holdout error ${run.holdout_error > 0 ? "+" : ""}${(run.holdout_error * 100).toFixed(1)} %`;
  const trust = run.provisional === null
    ? "not checked (a run from before the backtest)"
    : run.provisional ? `PROVISIONAL: ${run.provisional_reasons.join("; ")}` : "not provisional";
  const model = run.purchase_model ?? "model unrecorded";
  footer.textContent = `Customer lifetime value as of ${run.as_of_date}: ${model}, ${error}, ${trust}`;
  footer.classList.toggle("warning", run.provisional);
  if (run.report_url) {
    const link = document.createElement("a");
    link.href = run.report_url;
    link.textContent = "report";
    footer.append(" · ", link);
  }
}

// A panel that asks its own endpoint at its own pace, apart from the overview.
async function pollPanel(url, render, everyMs, what) {
  try {
    const response = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (response.ok) render(await response.json());
  } catch (error) {
    console.warn(`${what} update failed:`, error);
  } finally {
    setTimeout(() => pollPanel(url, render, everyMs, what), everyMs);
  }
}

// The cart sessions query writes every few seconds; its figures are asked for at that pace.
const CARTS_POLL_MS = 5_000;

function renderCarts(carts) {
  $("carts-day").textContent = carts.day ? `${carts.day} · abandoned after ${carts.idle_gap_minutes} min idle` : "no cart sessions yet";
  $("carts-rate").textContent = carts.abandonment_rate === null ? "–" : `${(carts.abandonment_rate * 100).toFixed(1)} %`;
  $("carts-rate-note").textContent = `${count.format(carts.abandoned_sessions)} of ${plural(carts.carting_sessions, "carting session")}`;
  $("carts-at-stake").textContent = money.format(carts.value_at_stake);
  $("carts-at-stake-note").textContent = "in carts left behind";
  $("carts-recovered").textContent = money.format(carts.recovered_value);
  $("carts-recovered-note").textContent = `${plural(carts.recovered_sessions, "session")} came back and bought`;
  rankedBars(
    $("carts-products-chart"),
    carts.top_products.map((entry, index) => ({
      label: `${index + 1}. #${entry.product_id}`,
      sublabel: entry.brand ?? "brand unknown",
      productId: entry.product_id,
      value: entry.value,
      valueText: money.format(entry.value),
      note: `${plural(entry.abandonments, "cart")}, ${plural(entry.units, "unit")}`,
    })),
    "No abandoned cart yet",
  );
  $("carts-brands").textContent = carts.top_brands.length
    ? `Top brands left behind: ${carts.top_brands.map((b) => `${b.brand} ${moneyShort.format(b.value)}`).join(" · ")}`
    : "";
}

function render(data) {
  renderHeader(data);
  renderInputQuality(data);
  renderKpis(data);
  renderPerProduct(data);
  renderTimeline(data);
  renderTops(data);
  renderFunnel(data);
  renderLatestWindow(data);
  renderPipeline(data);
  renderFreshness();
}

async function poll() {
  const started = Date.now();
  try {
    const response = await fetch(`/api/overview?windows=${spanWindows}`, {
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    latest = await response.json();
    receivedAt = Date.now();
    failures = 0;
    render(latest);
  } catch (error) {
    failures += 1;
    renderFreshness();
    console.warn("dashboard update failed:", error);
  } finally {
    setTimeout(poll, Math.max(POLL_MS - (Date.now() - started), 100));
  }
}

for (const button of document.querySelectorAll("[data-windows]")) {
  button.addEventListener("click", () => {
    spanWindows = Number(button.dataset.windows);
    params.set("windows", String(spanWindows));
    history.replaceState(null, "", `?${params}`);
    if (latest) renderHeader(latest);
  });
}
setInterval(renderFreshness, 250);
poll();
pollPanel("/api/clv", renderClv, CLV_POLL_MS, "CLV status");
pollPanel("/api/carts", renderCarts, CARTS_POLL_MS, "abandoned carts");
