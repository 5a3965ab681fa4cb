-- The synthetic `events` table every sluice benchmark reads (and `events_small`, its first
-- rows): mixed types with the awkward text a CSV/JSON tool must get right.
--
--   psql -v rows=2000000 -v small_rows=200000 -f benchmarks/data/events.sql
--
-- 2,000,000 rows are about 450 MB as Postgres CSV and 640 MB as row_to_json JSONL (about
-- 225 and 320 bytes a row). Deterministic: every "random" value is a hash of the row number
-- and a stream number (u() below), not random(), so the same row count gives the same
-- contents on every run, whatever the plan, the parallel workers or the Postgres version.
\set ON_ERROR_STOP on
SET timezone = 'UTC';

DROP TABLE IF EXISTS events_small;
DROP TABLE IF EXISTS events;
CREATE TABLE events (
  id          bigint PRIMARY KEY,
  tenant_id   int            NOT NULL,
  created_at  timestamptz    NOT NULL,
  email       text           NOT NULL,
  name        text           NOT NULL,
  amount      numeric(12,2)  NOT NULL,
  active      boolean        NOT NULL,
  tags        text[]         NOT NULL,
  payload     jsonb          NOT NULL,
  note        text
);

-- u(g, k): a uniform double in [0, 1) for row g and stream k. hashint8extended is the
-- stable hash Postgres uses for hash partitioning (its values may not change between
-- versions); its top 53 bits become the fraction.
CREATE FUNCTION pg_temp.u(g bigint, k int) RETURNS float8
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT ((hashint8extended(g, 7919 * k) >> 11) & 9007199254740991)::float8
               / 9007199254740992.0 $$;

-- pick(a, x): the element of a at fraction x in [0, 1).
CREATE FUNCTION pg_temp.pick(a text[], x float8) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT a[1 + floor(x * cardinality(a))::int] $$;

INSERT INTO events
SELECT
  g,
  1 + floor(r.tenant * r.tenant * 5000)::int,                         -- skewed: small tenants are busy
  timestamptz '2023-01-01 00:00:00+00' + r.at * interval '730 days',  -- two years, microseconds
  v.first_ascii || '.' || v.last_ascii || (g % 997)::text || '@' ||
    pg_temp.pick(ARRAY['example.com', 'mail.example.org', 'corp.example.net', 'example.co.uk',
                       'post.example.de', 'example.io'], r.domain),
  CASE
    WHEN r.name_kind < 0.015 THEN                                        -- embedded quotes
      v.first || ' "' || pg_temp.pick(ARRAY['Bud', 'Ace', 'Doc', 'Kiki'], r.nick) || '" ' || v.last
    WHEN r.name_kind < 0.025 THEN                                        -- comma and newline
      v.last || ', ' || v.first || E'\nc/o Accounts Payable'
    WHEN r.name_kind < 0.080 THEN v.last || ', ' || v.first            -- comma
    ELSE v.first || ' ' || v.last
  END,
  round((r.amount * r.amount * r.amount * 25000)::numeric, 2),         -- mostly small amounts
  r.active < 0.8,
  (ARRAY['billing', 'trial', 'vip', 'churn-risk', 'eu', 'us', 'beta', 'mobile',
         'needs review', 'enterprise'])[t.first_tag : t.first_tag + floor(r.tag_count * 3.5)::int],
  jsonb_build_object(
    'src',   pg_temp.pick(ARRAY['web', 'ios', 'android', 'api', 'import'], r.src),
    'score', round(r.score::numeric, 3),
    'items', floor(r.items * 12)::int,
    'ref',   substr(md5(g::text), 1, 10)),
  CASE
    WHEN r.note < 0.3 THEN NULL
    ELSE pg_temp.pick(ARRAY[
      'Customer asked for an invoice copy',
      'Paid via card ending 4242; receipt sent',
      'Upgrade requested, waiting on "legal" approval',
      'Refund issued (partial), see ticket #' || (g % 10007)::text,
      'Zahlung über SEPA-Lastschrift eingegangen',
      'Churn risk: low usage in last 30 days, reach out before renewal',
      'Imported from legacy CRM',
      E'Multi-line note:\nline two with a comma, here',
      'Préférence: facture papier, envoi trimestriel',
      'VIP — white glove onboarding 🚀 scheduled'], r.note_text)
  END
FROM generate_series(1, :rows) AS g
CROSS JOIN LATERAL (SELECT
  pg_temp.u(g, 1)  AS tenant,    pg_temp.u(g, 2)  AS at,        pg_temp.u(g, 3)  AS domain,
  pg_temp.u(g, 4)  AS name_kind, pg_temp.u(g, 5)  AS nick,      pg_temp.u(g, 6)  AS amount,
  pg_temp.u(g, 7)  AS active,    pg_temp.u(g, 8)  AS tag_start, pg_temp.u(g, 9)  AS tag_count,
  pg_temp.u(g, 10) AS src,       pg_temp.u(g, 11) AS score,     pg_temp.u(g, 12) AS items,
  pg_temp.u(g, 13) AS note,      pg_temp.u(g, 14) AS note_text, pg_temp.u(g, 15) AS first_name,
  pg_temp.u(g, 16) AS last_name) AS r
CROSS JOIN LATERAL (SELECT 1 + floor(r.tag_start * 8)::int AS first_tag,
                           1 + floor(r.first_name * 20)::int AS fi,
                           1 + floor(r.last_name * 20)::int AS li) AS t
CROSS JOIN LATERAL (SELECT
  -- Display names (non-ASCII, apostrophes, spaces) and their ASCII spellings for emails.
  (ARRAY['James', 'Mary', 'José', 'Zoë', 'Dmitri', 'Анна', 'Søren', 'Fatima', 'Łukasz', 'Chloé',
         'Wei', 'さくら', 'Ngozi', 'Björn', 'María', 'Liam', 'Olivia', 'Noah', 'Emma', 'Aïsha'])[t.fi] AS first,
  (ARRAY['james', 'mary', 'jose', 'zoe', 'dmitri', 'anna', 'soren', 'fatima', 'lukasz', 'chloe',
         'wei', 'sakura', 'ngozi', 'bjorn', 'maria', 'liam', 'olivia', 'noah', 'emma', 'aisha'])[t.fi] AS first_ascii,
  (ARRAY['Smith', 'Müller', 'O''Brien', 'García', 'Nguyen', 'Kowalski', 'Ivanov', 'Dubois', 'Rossi',
         'Johansson', '田中', 'Okafor', 'van der Berg', 'Smith Jr.', 'Núñez', 'Østergaard', 'Kim',
         'Brown', 'Davis', 'Wilson'])[t.li] AS last,
  (ARRAY['smith', 'mueller', 'obrien', 'garcia', 'nguyen', 'kowalski', 'ivanov', 'dubois', 'rossi',
         'johansson', 'tanaka', 'okafor', 'vanderberg', 'smithjr', 'nunez', 'ostergaard', 'kim',
         'brown', 'davis', 'wilson'])[t.li] AS last_ascii) AS v;

CREATE TABLE events_small AS SELECT * FROM events WHERE id <= :small_rows;
ALTER TABLE events_small ADD PRIMARY KEY (id);
VACUUM (ANALYZE, FREEZE) events;
VACUUM (ANALYZE, FREEZE) events_small;
SELECT count(*) AS events_rows, pg_size_pretty(pg_total_relation_size('events')) AS events_size FROM events;
SELECT count(*) AS events_small_rows FROM events_small;
