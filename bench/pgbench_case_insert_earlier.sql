-- The earlier baseline of bench/bench_case_create.py (2026-11-23): the counter, the case row and
-- ONE event, no materials. Creating a window case now writes two events and the item's two
-- material rows as well (bench/pgbench_case_insert.sql, the baseline of the ratio); this one is
-- still run beside it so that figures stay comparable with the earlier runs.
--
-- One transaction per case, like the service: the region's number counter bumped on its own (the
-- service does that in a short transaction of its own too), then the case row in its final
-- "submitted" shape, with every column the service fills, into the same table and indexes, and
-- the "created" event into the event log. No validation, no due dates, no Python: the ceiling a
-- create can approach on this server.
--
-- Run by the benchmark as
--   pgbench -n -M simple -f bench/pgbench_case_insert.sql -c C -j J -T SECONDS \
--     -D region_code=… -D region=… -D version=… -D department=… -D hall=… -D applicant=… -D clerk=…
-- (ids of the rows the benchmark loaded; all numeric, so pgbench can put them in without quotes).

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

INSERT INTO core_event (
    subject_type, subject_id, seq, kind, actor_id, actor_label, occurred_at, payload,
    prev_hash, hash)
VALUES (
    'cases.case', :id::text, 1, 'case.created', :clerk, '工作人员', now(),
    jsonb_build_object('number', :region_code::text, 'status', 'draft', 'channel', 'window',
                       'item', '食品经营许可', 'hall', '政务服务中心'),
    '',
    encode(sha256(convert_to('cases.case:' || :id::text || ':1:' || clock_timestamp()::text,
                             'UTF8')), 'hex'));

END;
