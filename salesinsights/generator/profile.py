"""The calibrated parameters of the synthetic shop, each with where it comes from.

"Measured" figures were computed with pandas on the real cosmetics-shop samples in shared/data/real_sample
(SOURCE.md describes them): the three contiguous head-of-month blocks (2019-10-01 00:00-07:10, 2019-11-01
00:00-07:37, 2019-12-01 00:00-08:13; ~20k rows each) and the uniform random 10,000-row sample of January 2020.
The multi-category sample (events_sample_2) is another shop and is not used. "Assumed" figures are judgement,
not measurement; they are kept few and modest. The real samples' rows are not copied: identifiers and brand
names are synthesised with the measured shape.
"""

from __future__ import annotations

from datetime import date

# The period the shop's user pool is built for: the five months of the original data set. Days outside it
# can be generated too (see volumes.py and users.py), but nobody registers there.
EPOCH_START = date(2019, 10, 1)
EPOCH_END = date(2020, 3, 1)

# Rows of the original monthly files (Kaggle data set page; October is confirmed by the sample's row numbers:
# its last row is row 4,102,282). Months outside the data set get the mean of these.
MONTHLY_EVENTS: dict[tuple[int, int], int] = {
    (2019, 10): 4_102_283,
    (2019, 11): 4_635_837,
    (2019, 12): 3_533_286,
    (2020, 1): 4_264_752,
    (2020, 2): 4_156_682,
}

# Share of a day's events per UTC hour, in percent. Measured on the January random sample, the only sample
# that covers whole days (10,000 rows over 31 days, so each hour carries ±5% sampling error). The
# head-of-month blocks agree for the hours they cover: 00-07 UTC hold 12-14% of a day there, 11.9% here.
HOUR_SHARE_PERCENT: tuple[float, ...] = (
    1.18, 0.97, 1.06, 1.34, 1.75, 2.27, 3.32, 4.34, 4.53, 5.49, 5.60, 6.04,
    6.11, 5.80, 5.37, 5.28, 5.62, 5.78, 6.78, 6.54, 6.13, 4.47, 2.70, 1.53,
)  # fmt: skip

# Relative volume by weekday, Monday first. Measured on the January random sample without the New Year
# holidays (1-8 Jan) and the sale of 27-28 Jan: 2-4 days per weekday, so ±8% each.
WEEKDAY_FACTOR: tuple[float, ...] = (1.09, 1.17, 0.99, 1.00, 0.93, 0.87, 0.94)

# Days that differ from their weekday. January values are measured (day count / mean ordinary day in the
# January sample); 31 Dec is measured only for its last 27 minutes (0.4 of the usual rate) and assumed 0.6
# for the day; the Black Friday weekend is assumed.
HOLIDAY_FACTOR: dict[date, float] = {
    date(2019, 11, 29): 1.6,
    date(2019, 11, 30): 1.2,
    date(2019, 12, 2): 1.15,
    date(2019, 12, 31): 0.6,
    date(2020, 1, 1): 0.56,
    date(2020, 1, 2): 0.74,
    date(2020, 1, 3): 0.86,
    date(2020, 1, 4): 0.79,
    date(2020, 1, 5): 0.90,
    date(2020, 1, 6): 0.78,
    date(2020, 1, 7): 0.80,
    date(2020, 1, 8): 0.87,
    date(2020, 1, 27): 1.54,
    date(2020, 1, 28): 1.39,
}

# Day-to-day noise (log-normal sigma) left after weekday and holidays: the January day counts spread by 7.2%
# where Poisson noise alone gives 5.5%, which leaves ~5%.
DAY_NOISE_SIGMA = 0.05

# --- Catalogue -------------------------------------------------------------------------------------------
# Popularity is a Zipf-Mandelbrot law, (rank + offset) ** -exponent: flat at the head (the top product has
# 0.6% of a block's rows, the tenth 0.2%) and long in the tail. Tuned together with the visit shortlists and
# featured products below to the distinct products the samples show (see there).
PRODUCTS = 50_000
PRODUCT_ZIPF_EXPONENT = 0.9
PRODUCT_ZIPF_OFFSET = 30
# Distinct product ids: 5% sit in a low range (3,762-60,000), the rest follow these quantiles (measured).
LOW_PRODUCT_ID_SHARE = 0.05
LOW_PRODUCT_ID_RANGE = (3_762, 60_000)
PRODUCT_ID_QUANTILES: tuple[tuple[float, int], ...] = (
    (0.00, 5_450_000),
    (0.05, 5_545_400),
    (0.10, 5_649_300),
    (0.25, 5_739_400),
    (0.50, 5_819_100),
    (0.75, 5_862_000),
    (0.90, 5_889_100),
    (0.99, 5_913_000),
    (1.00, 5_923_800),
)

# 435 distinct category ids in the samples, all 19 digits; 64% share the prefix 1487580004-1487580014, the
# rest are spread over 1.49e18-2.24e18 (measured).
CATEGORIES = 480
CATEGORY_ZIPF_EXPONENT = 1.0
CATEGORY_BLOCK_SHARE = 0.64
CATEGORY_BLOCK_RANGE = (1_487_580_004_000_000_000, 1_487_580_014_999_999_999)
CATEGORY_SPREAD_RANGE = (1_490_000_000_000_000_000, 2_240_000_000_000_000_000)
# category_code is a function of category_id and is set for 13 category ids holding ~2% of rows; these are
# the nine codes seen (the REES46 taxonomy).
CATEGORY_CODE_ROW_SHARE = 0.02
CATEGORY_CODES: tuple[str, ...] = (
    "appliances.environment.vacuum",
    "stationery.cartrige",
    "apparel.glove",
    "furniture.bathroom.bath",
    "accessories.bag",
    "furniture.living_room.cabinet",
    "appliances.personal.hair_cutter",
    "accessories.cosmetic_bag",
    "appliances.environment.air_conditioner",
)

# 223 brands seen, the biggest on 21% of branded rows; rows without a brand: 41% (measured; 44% of distinct
# products, but that count is inflated by rarely seen products).
BRANDS = 240
BRAND_ZIPF_EXPONENT = 1.4
PRODUCT_BRAND_NULL_SHARE = 0.41

# Unit price per product. Views go to dearer products than carts do, and more widely: row price medians
# measured view 5.24-5.32 / cart 2.6-3.0, p95 view 56-58 / cart 12.4-15.7, all rows 3.95-4.11 / 29; max
# 327.78; 0.25% of rows cost 0.0. Power weights alone cannot widen the view prices, so the catalogue mixes
# everyday products with a dearer range that is viewed as often as its popularity says but carted less
# (parameters fitted to those eight figures by a grid search, the exponents then adjusted by simulation).
PREMIUM_SHARE = 0.15
PREMIUM_PRICE_MEDIAN = 18.0
PREMIUM_PRICE_SIGMA = 1.1
PREMIUM_CART_FACTOR = 0.3
EVERYDAY_PRICE_MEDIAN = 3.8
EVERYDAY_PRICE_SIGMA = 0.8
VIEW_PRICE_EXPONENT = 0.33
CART_PRICE_EXPONENT = -0.4
PRICE_MIN = 0.05
PRICE_MAX = 330.0
ZERO_PRICE_SHARE = 0.003

# --- Users -----------------------------------------------------------------------------------------------
# Customers registered before October, per unit of scale; their ids follow the ids of the pre-existing
# customers in the 2019-10-01 block (measured quantiles).
EXISTING_USERS = 700_000
EXISTING_USER_ID_QUANTILES: tuple[tuple[float, int], ...] = (
    (0.00, 9_794_320),
    (0.01, 226_258_195),
    (0.02, 241_351_509),
    (0.05, 293_698_752),
    (0.10, 358_807_041),
    (0.20, 422_293_089),
    (0.30, 457_754_908),
    (0.40, 482_954_116),
    (0.50, 509_120_273),
    (0.60, 528_448_203),
    (0.70, 538_744_007),
    (0.80, 546_772_498),
    (0.90, 552_425_543),
    (0.95, 554_025_547),
    (0.99, 554_951_633),
    (1.00, 555_090_983),
)
# New customers per event of the day: 26-31% of the users of a head-of-month block have ids issued that
# day (tuned by simulation to that share).
NEW_USERS_PER_EVENT = 0.038
# The platform-wide user id counter at midnight UTC, read off the highest id seen per day in the samples
# (the platform serves many shops, so ids of this shop's newcomers are sparse). 1 March is extrapolated at
# January's rate.
USER_ID_COUNTER: dict[date, int] = {
    date(2019, 10, 1): 555_450_000,
    date(2019, 11, 1): 566_290_000,
    date(2019, 12, 1): 580_000_000,
    date(2020, 1, 1): 595_420_000,
    date(2020, 2, 1): 608_810_000,
    date(2020, 3, 1): 621_400_000,
}
# Heavy-tailed activity (log-normal sigma) of a user; newcomers are more active in their first days, decaying
# with this time constant (tuned to the rows per user and sessions per user of the blocks).
ACTIVITY_SIGMA = 2.0
NEWCOMER_BOOST = 4.0
NEWCOMER_DECAY_DAYS = 5.0
# Shoppers cart and buy in far more of their sessions than browsers do (tuned so that 18-21% of sessions
# whole inside a block cart and 11-12% of those buy, as measured; buyers hold about a quarter of the rows).
SHOPPER_SHARE = 0.2
SHOPPER_ACTIVITY_FACTOR = 4.0
SHOPPER_CART_PROBABILITY = 0.36
SHOPPER_PURCHASE_PROBABILITY = 0.08
BROWSER_CART_PROBABILITY = 0.085
BROWSER_PURCHASE_PROBABILITY = 0.004

# --- Sessions (measured on the three blocks) ---------------------------------------------------------------
# A visit is a burst of sessions of one user (the shop issues a new session id often): 15% of the users of a
# block have 2+ sessions in it, 3.5% have 4+. Sessions per visit: discrete Pareto, P(n >= k) = k**-alpha;
# the next session of a visit starts a log-normal spacing after the previous one started.
SESSIONS_PER_VISIT_ALPHA = 2.5
SESSIONS_PER_VISIT_MAX = 24
SESSION_SPACING_MEDIAN_SECONDS = 1_200.0
SESSION_SPACING_SIGMA = 1.0
# A visit's rows come on average this long after the visit starts, so visits start this much earlier than
# the hour-of-day profile says, to put the rows on the profile (tuned by simulation).
VISIT_START_LEAD_SECONDS = 2_400
# Views per viewing session: median 1, p90 3-4, p99 16-19, mean 2.05 -> discrete Pareto (alpha 1.75 fits
# these; 1.8 fits the event mix of the blocks, 43-47% views, once carting sessions are as calibrated).
VIEWS_PARETO_ALPHA = 1.8
# 6.5% of sessions have no view; they are carting or buying sessions (23% of all), of which ~28% skip views.
VIEW_IN_CART_SESSION_SHARE = 0.76
# Carting sessions view more: 3.7-4.1 views on average (log-normal with that mean).
CART_SESSION_VIEWS_MEDIAN = 1.8
CART_SESSION_VIEWS_SIGMA = 1.2
# Cart rows per carting session: median 2-3, p90 12-15, p99 38-51, mean 5.2-6.3.
CARTS_MEDIAN = 2.5
CARTS_SIGMA = 1.29
# Removing sessions: 53% of carting sessions; distinct removes: median ~3, mean ~5.8 before duplicates.
REMOVE_GIVEN_CART = 0.53
REMOVE_WITHOUT_CART = 0.02
REMOVES_MEDIAN = 2.8
REMOVES_SIGMA = 1.2
# Order lines (one purchase row per product, all with the order's timestamp): median 6-7, p90 17-22, max
# 49-148; a quarter of buying sessions carted nothing in that session (the cart was filled earlier).
ORDER_LINES_MEDIAN = 7.0
ORDER_LINES_SIGMA = 0.8
# Of that spread (log-normal sigma), this much belongs to the customer: some customers fill large baskets
# order after order, others small ones, as the spend per occasion of repeat buyers shows in every shop
# (CDNOW's Gamma-Gamma fit: q = 3.7; the generated months: 6.3). Without it the customers' mean spend would
# differ by chance alone, and a Gamma-Gamma fit on the generated months runs off to q -> infinity. The rest
# varies from order to order: sqrt(USER² + ORDER²) = ORDER_LINES_SIGMA, the measured spread of an order.
ORDER_LINES_USER_SIGMA = 0.4
ORDER_LINES_ORDER_SIGMA = float((ORDER_LINES_SIGMA**2 - ORDER_LINES_USER_SIGMA**2) ** 0.5)
ORDER_LINES_MAX = 150
PURCHASE_WITHOUT_CART_SHARE = 0.25
# Within a session only some events refer to the session's own cart: removes 33-40%, purchases 42-60%. An
# order takes everything the session carted: 0.6-0.9% of carting sessions buy and leave units in the cart.
REMOVE_FROM_SESSION_CART = 0.38
PURCHASE_FROM_SESSION_CART = 0.6
# Sessions rarely empty their own cart by removals: 2.5-3.3% of carting sessions end with an empty cart and
# no purchase, while 84.5-84.8% end with units in it and no purchase (the three blocks, sessions whole
# inside them). A session's removals undo distinct rows of its cart and leave the last one, but in this
# share of the sessions, which empty it.
REMOVALS_EMPTY_CART_SHARE = 0.2
# A 20k-row block shows 7,400 distinct products, while a random 10k rows of a month show 6,260 (measured):
# rows close in time share products far more than popularity alone explains. Views of a visit return to a
# shortlist of its own, carts less so (24% of carted products were viewed in the same session), and each
# day features a few everyday products. Tuned with the popularity law above to both figures.
VISIT_SHORTLIST_PRODUCTS = 4
VIEW_SHORTLIST_SHARE = 0.6
CART_SHORTLIST_SHARE = 0.12
FEATURED_PRODUCTS = 200
FEATURED_SHARE = 0.15
# Seconds between events of a session when not zero: median 23, p90 188, p99 1,300-1,520, and 0.64-0.86% of
# them over 30 minutes (the idle gap that closes a cart session) -> log-normal, capped at two hours.
GAP_MEDIAN_SECONDS = 22.0
GAP_SIGMA = 1.8
GAP_MAX_SECONDS = 7_200
# Exact duplicate rows: 4.5-5.9% of rows, ~90% of them remove_from_cart (~31% of removes are written twice).
DUPLICATE_PROBABILITY = {"view": 0.0, "cart": 0.015, "remove_from_cart": 0.31, "purchase": 0.001}
TRIPLICATE_SHARE = 0.02
# Rows without user_session: 0.02-0.07% (measured), whole sessions at a time.
NULL_SESSION_SHARE = 0.0003
