-- Calendar clauses from an iCalendar holiday feed, and sample_calendar().
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

-- China 2025 as a holiday feed publishes it: all-day events, the make-up
-- working days marked 补班 in their SUMMARY; CRLF line ends, a folded line,
-- DTEND exclusive, one event with DURATION, one with neither (one day).
CREATE TEMP TABLE feed (ics text);
INSERT INTO feed VALUES (replace(
'BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//example//holidays//ZH
X-WR-CALNAME:中国节假日
BEGIN:VEVENT
UID:2025-01-01@example
DTSTART;VALUE=DATE:20250101
SUMMARY:元旦 休
END:VEVENT
BEGIN:VEVENT
UID:2025-01-26@example
DTSTART;VALUE=DATE:20250126
DTEND;VALUE=DATE:20250127
SUMMARY:春节 补班
END:VEVENT
BEGIN:VEVENT
UID:2025-01-28@example
DTSTART;VALUE=DATE:20250128
DTEND;VALUE=DATE:20250205
SUMMARY:春节 休
DESCRIPTION:1月28日至2月4日放假调休，共8天。1月26日（周日）、2月8日（周六）
  上班。
END:VEVENT
BEGIN:VEVENT
UID:2025-02-08@example
DTSTART;VALUE=DATE:20250208
DTEND;VALUE=DATE:20250209
SUMMARY:春节 补班
END:VEVENT
BEGIN:VEVENT
UID:2025-04-04@example
DTSTART;VALUE=DATE:20250404
DURATION:P3D
SUMMARY:清明节 休
END:VEVENT
BEGIN:VEVENT
UID:2025-04-27@example
DTSTART;VALUE=DATE:20250427
DTEND;VALUE=DATE:20250428
SUMMARY:劳动节
CATEGORIES:补班
END:VEVENT
BEGIN:VEVENT
UID:2025-05-01@example
DTSTART;VALUE=DATE:20250501
DTEND;VALUE=DATE:20250506
SUMMARY:劳动节 休
END:VEVENT
BEGIN:VEVENT
UID:2025-05-31@example
DTSTART;VALUE=DATE:20250531
DTEND;VALUE=DATE:20250603
SUMMARY:端午节 休
END:VEVENT
BEGIN:VEVENT
UID:2025-09-28@example
DTSTART;VALUE=DATE:20250928
DTEND;VALUE=DATE:20250929
SUMMARY:国庆节、中秋节 补班
END:VEVENT
BEGIN:VEVENT
UID:2025-10-01@example
DTSTART;VALUE=DATE:20251001
DTEND;VALUE=DATE:20251009
SUMMARY:国庆节、中秋节 休
END:VEVENT
BEGIN:VEVENT
UID:2025-10-11@example
DTSTART;VALUE=DATE:20251011
DTEND;VALUE=DATE:20251012
SUMMARY:国庆节、中秋节 补班
END:VEVENT
END:VCALENDAR
', E'\n', E'\r\n'));

SELECT aftersales.calendar_clauses_from_ics(ics, '补班', '09:00-12:00,13:00-18:00') FROM feed;
-- the feed gives exactly the shipped 2025 schedule
SELECT ('zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; '
        || aftersales.calendar_clauses_from_ics(ics, '补班', '09:00-12:00,13:00-18:00'))::aftersales.calendar
       OPERATOR(aftersales.=) aftersales.sample_calendar(2025) AS same_as_shipped
  FROM feed;
-- without a marker every event is a holiday
SELECT aftersales.calendar_clauses_from_ics(ics) FROM feed;
-- LF line ends, lowercase property names
SELECT aftersales.calendar_clauses_from_ics(E'begin:vevent\ndtstart;value=date:20261225\nsummary:Christmas\nend:vevent\n');

-- errors
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VCALENDAR
END:VCALENDAR');
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VEVENT
DTSTART:20251001T090000Z
DTEND:20251001T170000Z
END:VEVENT');
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VEVENT
DTSTART;VALUE=DATE:20250230
END:VEVENT');
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VEVENT
DTSTART;VALUE=DATE:20251008
DTEND;VALUE=DATE:20251001
END:VEVENT');
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VEVENT
DTSTART;VALUE=DATE:20251001
DURATION:PT8H
END:VEVENT');
SELECT aftersales.calendar_clauses_from_ics('BEGIN:VEVENT
SUMMARY:no date
END:VEVENT');
SELECT aftersales.calendar_clauses_from_ics(NULL);

-- sample_calendar(): the shipped years, and a refusal for the others
SELECT aftersales.sample_calendar(2025);
SELECT aftersales.business_add(aftersales.sample_calendar(2025), '2025-01-24 17:00+08', '2 hours') AS over_spring_festival,
       aftersales.business_add(aftersales.sample_calendar(2025), '2025-09-30 17:00+08', '2 hours') AS over_national_day;
SELECT aftersales.is_business_time(aftersales.sample_calendar(2026), '2026-10-10 10:00+08') AS makeup_2026,
       aftersales.is_business_time(aftersales.sample_calendar(2026), '2026-09-25 10:00+08') AS mid_autumn_2026;
SELECT aftersales.sample_calendar(2024);
SELECT aftersales.sample_calendar(2027);
SELECT aftersales.sample_calendar(NULL);
