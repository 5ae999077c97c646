-- Example queries over the lake's tables by name, in Spark SQL, for the JDBC/ODBC endpoint (beeline,
-- Tableau, Power BI, Superset, DBeaver) and Spark Connect. Each starts with a "-- name:" line; the tests run
-- every one of them through the endpoint. "Today" is the newest day in the lake: on a replay that is the
-- replayed day, on live data it is current_date().

-- name: top products today
-- The ten products with the most revenue on the newest day, with their units and funnel counts.
SELECT product_id, revenue, units, views, carts
FROM gold.product_sales_daily
WHERE event_date = (SELECT max(event_date) FROM gold.product_sales_daily)
ORDER BY revenue DESC, product_id
LIMIT 10;

-- name: revenue by brand and category
-- The last 30 days' purchases by brand and category (silver has both; gold is per product).
SELECT coalesce(brand, '(no brand)') AS brand,
       coalesce(category_code, '(no category)') AS category,
       count(*) AS units,
       sum(price) AS revenue
FROM silver.events
WHERE event_type = 'purchase'
  AND event_date > date_sub((SELECT max(event_date) FROM silver.events), 30)
GROUP BY 1, 2
ORDER BY revenue DESC
LIMIT 20;

-- name: conversion funnel by category
-- Sessions that viewed, carted and bought in each category, and the share that went on at each step.
WITH sessions AS (
  SELECT coalesce(category_code, '(no category)') AS category,
         user_session,
         max(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS viewed,
         max(CASE WHEN event_type = 'cart' THEN 1 ELSE 0 END) AS carted,
         max(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS bought
  FROM silver.events
  GROUP BY 1, 2
)
SELECT category,
       sum(viewed) AS viewing_sessions,
       sum(carted) AS carting_sessions,
       sum(bought) AS buying_sessions,
       round(sum(carted) / nullif(sum(viewed), 0), 4) AS view_to_cart,
       round(sum(bought) / nullif(sum(carted), 0), 4) AS cart_to_purchase
FROM sessions
GROUP BY category
ORDER BY viewing_sessions DESC
LIMIT 20;

-- name: clv by segment with last month's sales
-- The newest CLV snapshot by RFM segment, beside what those customers bought in the last 30 days.
WITH snapshot AS (
  SELECT *
  FROM gold.customer_lifetime_value
  WHERE as_of_date = (SELECT max(as_of_date) FROM gold.customer_lifetime_value)
),
last_month AS (
  SELECT user_id, count(*) AS units, sum(price) AS revenue
  FROM silver.events
  WHERE event_type = 'purchase'
    AND event_date > date_sub((SELECT max(event_date) FROM silver.events), 30)
  GROUP BY user_id
)
SELECT s.rfm_segment,
       count(*) AS customers,
       round(avg(s.p_alive), 3) AS mean_p_alive,
       round(avg(s.clv), 2) AS mean_clv,
       round(sum(s.clv), 2) AS total_clv,
       coalesce(sum(m.units), 0) AS units_last_30_days,
       coalesce(sum(m.revenue), 0) AS revenue_last_30_days
FROM snapshot s
LEFT JOIN last_month m ON m.user_id = s.user_id
GROUP BY s.rfm_segment
ORDER BY total_clv DESC;
