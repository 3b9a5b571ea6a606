-- The baseline of bench/bench_case_create.py: what creating a window case writes, as bare SQL.
--
-- The same rows as the service writes, in the same number of statements: the region's number
-- counter bumped on its own (the service does that in a statement of its own too, outside the
-- case's transaction), then in one transaction the case row in its final "submitted" shape, with
-- every column the service fills, its two material rows (the test item asks for two) in one insert,
-- and its first two events, "created" and "submitted", chained (the second's prev_hash is the
-- first's hash) in one insert, into the same tables and indexes. No validation, no due dates, no
-- Python: the ceiling a create can approach on this server.
--
-- Run by the benchmark as
--   pgbench -n -M simple -f bench/pgbench_case_insert.sql -c C -j J -T SECONDS \
--     -D region_code=… -D region=… -D version=… -D department=… -D hall=… -D applicant=… -D clerk=… \
--     -D requirement1=… -D requirement2=…
-- (ids of the rows the benchmark loaded; all numeric, so pgbench can put them in without quotes).
-- bench/pgbench_case_insert_earlier.sql is the earlier, smaller baseline (one event, no materials).

INSERT INTO cases_casenumbercounter (region_code, day, last)
VALUES (:region_code::text, (now() AT TIME ZONE 'Asia/Shanghai')::date, 1)
ON CONFLICT (region_code, day) DO UPDATE SET last = cases_casenumbercounter.last + 1
RETURNING last \gset

BEGIN;

INSERT INTO cases_case (
    number, query_code, title, channel, status, form_data, outputs,
    created_at, submitted_at, promised_limit, legal_limit, limit_unit, extended_days, clock,
    supplement_count, visits, commitment, commitment_text, decision, decision_reason,
    refusal_basis, result_name, result_number, delivery_method, delivery_detail, close_reason,
    applicant_id, created_by_id, department_id, hall_id, region_id, version_id)
VALUES (
    :region_code::text || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
        || lpad(:last::text, greatest(5, length(:last::text)), '0'),
    upper(substr(md5(random()::text), 1, 8)),
    '食品经营许可', 'window', 'submitted',
    '{"name": "王五", "mobile": "13800138000"}'::jsonb, '{}'::jsonb,
    now(), now(), 10, 20, 'working', 0, '[]'::jsonb,
    0, 1, false, '', '', '',
    '', '', '', '', '', '',
    :applicant, :clerk, :department, :hall, :region, :version)
RETURNING id \gset

INSERT INTO cases_casematerial (
    case_id, requirement_id, material_type, name, required, tolerable, status, problem, owed_by,
    checked)
VALUES
    (:id, :requirement1, 'application', '申请书', true, false, 'pending', '', NULL, false),
    (:id, :requirement2, 'premises', '场所证明', true, true, 'pending', '', NULL, false);

WITH first AS (
    SELECT encode(sha256(convert_to('cases.case:' || :id::text || ':1:' || clock_timestamp()::text,
                                    'UTF8')), 'hex') AS hash
)
INSERT INTO core_event (
    subject_type, subject_id, seq, kind, actor_id, actor_label, occurred_at, payload,
    prev_hash, hash)
SELECT 'cases.case', :id::text, 1, 'case.created', :clerk, '工作人员', now(),
       jsonb_build_object('number', :region_code::text, 'status', 'submitted',
                          'channel', 'window', 'item', '食品经营许可', 'hall', '政务服务中心'),
       '', hash
FROM first
UNION ALL
SELECT 'cases.case', :id::text, 2, 'case.submitted', :clerk, '工作人员', now(),
       jsonb_build_object('number', :region_code::text, 'status', 'submitted',
                          'from', 'draft', 'to', 'submitted'),
       hash, encode(sha256(convert_to(hash || ':2', 'UTF8')), 'hex')
FROM first;

END;
