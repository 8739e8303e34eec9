-- Answers depend only on the arguments: never on what the backend computed
-- before (its calendar cache) nor on the order of evaluation within a query.
-- Every case runs in a fresh backend (\c) and again after a warm-up that
-- visits far-away dates in another order.  The right answers are worked
-- out by hand in the comments.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
\set C '''zone=UTC; mon-fri 09:00-17:00; holiday *-12-25'''
\set B '''zone=Europe/Berlin; mon-fri 09:00-17:00; holiday *-12-25'''
\set M '''zone=UTC; mon-sun 09:00-10:00; holiday *-03-01'''

-- 1. 2025-06-01..2027-06-01 holds 104 weeks and Sun, Mon: 521 weekdays, two
--    of them Christmas (Thu 2025-12-25, Fri 2026-12-25): 519 * 8 h = 4152 h
\c -
SET timezone = 'UTC';
SELECT aftersales.business_diff(:C, '2025-06-01+00', '2027-06-01+00') AS fresh;
SELECT aftersales.business_diff(:C, '2025-06-01+00', '2027-06-01+00') AS again;
\c -
SET timezone = 'UTC';
SELECT aftersales.business_diff(:C, '2027-06-01+00', '2025-06-01+00') AS reversed,
       aftersales.is_business_time(:C, '9000-06-01 12:00+00') AS far_future,
       aftersales.is_business_time(:C, '0100-06-01 12:00+00') AS far_past;
SELECT aftersales.business_diff(:C, '2025-06-01+00', '2027-06-01+00') AS after_warmup;

-- 2. Berlin kept CET (UTC+1) all through 1960.  From Wed 1960-06-01, 3 + 5
--    + 4 working days make 96 hours by Thu 06-16; 4 more end at 13:00 CET
--    on Fri 06-17, 12:00 UTC.  Sat 06-04 13:00 CET waits for Mon 06-06
--    09:00 CET, 08:00 UTC.
\c -
SET timezone = 'UTC';
SELECT aftersales.business_add(:B, '1960-06-01 00:00+00', '100 hours') AS fresh_add;
SELECT aftersales.next_business_time(:B, '1960-06-04 12:00+00') AS fresh_next;
\c -
SET timezone = 'UTC';
SELECT aftersales.next_business_time(:B, '1960-06-04 12:00+00') AS next_first;
SELECT aftersales.business_add(:B, '1960-06-01 00:00+00', '100 hours') AS add_second;
\c -
SET timezone = 'UTC';
SELECT aftersales.business_add(:B, '2090-06-01 00:00+00', '100 hours') AS warmup_2090,
       aftersales.business_add(:B, '1960-06-01 00:00+00', '100 hours') AS add_1960,
       aftersales.next_business_time(:B, '1960-06-04 12:00+00') AS next_1960;

-- 3. one hour a day, every day but 1 March: 4000 hours from 2025-06-01
--    end at 10:00 on the 4000th counted day: 2025-06-01 + 3999 days + the
--    11 first-of-Marches 2026..2036 skipped = 2036-05-24.
\c -
SET timezone = 'UTC';
SELECT aftersales.business_add(:M, '2025-06-01+00', '4000 hours') AS first_call,
       aftersales.business_add(:M, '2025-06-01+00', '4000 hours') AS second_call;
\c -
SET timezone = 'UTC';
SELECT aftersales.business_add(:M, '1901-06-01+00', '4000 hours') AS warmup_1901;
SELECT aftersales.business_add(:M, '2025-06-01+00', '4000 hours') AS after_warmup,
       aftersales.business_diff(:M, '2025-06-01+00', '2036-05-24 10:00+00') AS diff_back;

-- 4. far-apart instants in one backend: no limit on how far apart
\c -
SET timezone = 'UTC';
SELECT aftersales.is_business_time(:C, '1000-06-01 12:00+00') AS sunday_1000;
SELECT aftersales.is_business_time(:C, '2026-06-01 12:00+00') AS monday_2026;
SELECT aftersales.is_business_time(:C, '9999-12-24 12:00+00') AS friday_9999,
       aftersales.is_business_time(:C, '9998-12-25 12:00+00') AS christmas_9998,
       aftersales.is_business_time(:C, '0001-12-25 12:00+00') AS christmas_0001;
\c -
SET timezone = 'UTC';
SELECT aftersales.is_business_time(:C, '2026-06-01 12:00+00') AS monday_2026;
SELECT aftersales.is_business_time(:C, '1000-06-01 12:00+00') AS sunday_1000;
SELECT aftersales.is_business_time(:C, '2026-06-01 12:00+00') AS monday_2026_again;
-- one call over almost the whole range: 7,999 years and their Christmases
SELECT aftersales.business_diff(:C, '2000-01-01+00', '9999-12-31+00') AS whole_range;
SELECT aftersales.business_diff(:C, '0001-01-02+00', '2000-01-01+00') AS before_2000;
-- the 400-year Gregorian cycle: the same business time in each cycle
SELECT aftersales.business_diff(:C, '2000-01-01+00', '2400-01-01+00') AS cycle_2000,
       aftersales.business_diff(:C, '2400-01-01+00', '2800-01-01+00') AS cycle_2400,
       aftersales.business_diff(:C, '1600-01-01+00', '2000-01-01+00') AS cycle_1600;
