"""The demo year's two ways of writing a case: through the services, or from rows held in memory.

`tongban demo` moves each demo case through its life with one set of calls (`ops.case_create`,
`ops.step_pass` …) and reads the case back with another (`ops.active_steps` …). `ServiceOps` sends
every call to the services (tongban.cases, reviews, supervision) and reads from the database: the
reference, `tongban demo --plain`. `MemoryOps` writes the same rows for the calls a demo case makes
most (application and files, supplement notices, refusal, acceptance, 容缺 and 告知承诺 on a
single item, steps and decisions, special procedures, 一件事, delivery, a satisfied rating, the
morning sweep's card alerts) from the rows it holds in memory: no lock, no permission check and no
read back, which a demo run can skip because nobody else writes its cases. On SQLite its rows are
kept in a `core.rows.Buffer` and written a table at a time just before anyone else's statement
(the morning sweep's, a service's), so a row changed several times in a day is written once
(docs/decisions/0017). Any other call (an extension, a withdrawal, a bad rating, 容缺 on a 一件事 …)
goes to the services, and that case is read from the database from then on. The two must write
the same rows: test_yeardemo.py compares a year written each way, every case, step, material,
file record, notice, suspension, post-check, rating, card alert and event, hashes included
(docs/decisions/0015).

A change to what a service writes must be made here too, or the comparison fails.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, TypeVar

from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.catalog.formschema import FieldSpec, validate_submission
from tongban.catalog.models import Bundle, ItemVersion
from tongban.catalog.selectors import bundle_merged_form, bundle_merged_materials
from tongban.core.eventlog import event_hash, normalise_payload
from tongban.core.models import Event
from tongban.core.rows import Buffer
from tongban.core.services import _actor_label
from tongban.org.models import Applicant, Hall, Role

from . import clocks, services
from .models import (
    Case,
    CaseMaterial,
    CaseNumberCounter,
    Channel,
    Decision,
    MaterialStatus,
    Step,
    SupplementRequest,
    Suspension,
    Upload,
)
from .uploads import sniff_upload
from .workflow import FINAL_STATUSES, CaseStatus, StepStatus, can_move

M = TypeVar("M", bound=Model)


class ServiceOps:
    """Every call through the services; every read from the database."""

    def __getattr__(self, name: str) -> Any:
        # The case services by their own names: ops.case_withdraw is services.case_withdraw.
        return getattr(services, name)

    def evaluation_by_applicant(
        self, *, actor: Any, case: Case, occasion: str, level: str, **others: Any
    ) -> Any:
        from tongban.reviews import services as reviews

        return reviews.evaluation_by_applicant(
            actor=actor, case=case, occasion=occasion, level=level, **others
        )

    def writing(self) -> AbstractContextManager[Any]:
        """Around the year (MemoryOps keeps its rows there)."""
        return nullcontext()

    def flush(self) -> None:
        """Before a commit (MemoryOps writes what it keeps)."""

    def card_sweep(self, *, at: datetime) -> None:
        from tongban.supervision.services import card_sweep

        card_sweep(at=at)

    def refresh(self, case: Case) -> Case:
        case.refresh_from_db()
        return case

    def materials(self, case: Case) -> list[CaseMaterial]:
        return list(case.materials.order_by("id"))

    def active_steps(self, case: Case) -> list[Step]:
        return list(
            case.steps.filter(status=StepStatus.ACTIVE)
            .select_related("department")
            .order_by("order")
        )

    def refresh_step(self, step: Step) -> Step:
        step.refresh_from_db()
        return step

    def bundle_form(self, bundle: Bundle) -> list[FieldSpec]:
        return bundle_merged_form(bundle=bundle)

    def next_bundle_step(self, parent: Case) -> Step | None:
        """The active step of a bundle's items that is due first."""
        return (
            Step.objects.filter(case__parent=parent, status=StepStatus.ACTIVE)
            .select_related("case", "department")
            .order_by("due", "case__number", "order")
            .first()
        )

    def is_last_open_step(self, step: Step) -> bool:
        return not (
            Step.objects.filter(case_id=step.case_id)
            .exclude(pk=step.pk)
            .exclude(status__in=[StepStatus.PASSED, StepStatus.CANCELLED])
            .exists()
        )

    def output_keys_of(self, child: Case) -> list[str]:
        return services.output_keys_of(child)


class _Held:
    """What MemoryOps knows of one case: the rows as the database has them now."""

    def __init__(self, case: Case, materials: list[CaseMaterial]) -> None:
        self.case = case
        self.materials = materials
        self.files: dict[int, list[Any]] = {}  # material → its uploads' keys
        self.steps: list[Step] = []
        self.children: list[_Held] = []  # a bundle's items, by id
        self.bundle: _BundleParts | None = None
        self.supplements: list[SupplementRequest] = []
        self.suspension: Suspension | None = None

    def parts(self) -> _BundleParts:
        assert self.bundle is not None
        return self.bundle


class _BundleParts:
    """What the services read of a published bundle each time they touch one of its cases."""

    def __init__(self, bundle: Bundle) -> None:
        self.members = services._target_of(None, bundle).members
        self.form = bundle_merged_form(bundle=bundle)
        self.materials = bundle_merged_materials(bundle=bundle)
        self.keys = {v.pk: {f.key for f in v.form_fields.all()} for _m, v in self.members}
        self.depends = {m.pk: [d.pk for d in m.depends_on.all()] for m, _v in self.members}
        self.mappings = {
            m.pk: list(bundle.field_mappings.filter(source=m)) for m, _v in self.members
        }

    def child_form(self, data: Mapping[str, Any], version: ItemVersion) -> dict[str, Any]:
        keys = self.keys[version.pk]
        return {key: value for key, value in data.items() if key in keys}

    def outputs_of(self, member_id: int) -> list[str]:
        return sorted({m.source_key for m in self.mappings[member_id]})


_HEAD = (
    "SELECT seq, hash FROM core_event WHERE subject_type = %s AND subject_id = %s "
    "ORDER BY seq DESC LIMIT 1"
)


class MemoryOps(ServiceOps):
    """The frequent calls written from memory; the rest through the services (see the module)."""

    def __init__(self) -> None:
        self.plain: set[int] = set()  # cases handed to the services for good
        self.held: dict[int, _Held] = {}
        self.heads: dict[int, tuple[int, str]] = {}  # held case → (seq, hash) of its last event
        self.bundles: dict[int, _BundleParts] = {}
        self.recipients: dict[tuple[int, bool], int] = {}  # (department, red) → phones alerted
        self.buffer = Buffer()  # rows kept until the next statement of anyone else
        # Case number counters by (region code, day), while nobody else has inserted a counter.
        self.counters: dict[tuple[str, date], CaseNumberCounter] = {}
        self.counters_as_of = 0
        self.delivered: dict[int, tuple[int, str]] = {}  # delivered case → its chain's last link
        self.definitions: dict[int, list[Any]] = {}  # version → its step definitions
        self.stored: dict[str, str] = {}  # an upload's SHA-256 → the path of a file with its bytes

    def writing(self) -> AbstractContextManager[Buffer]:
        """Around the year: this writer's rows go out a table at a time (tongban.core.rows)."""
        return self.buffer.holding()

    def flush(self) -> None:
        """Before a commit: write what the buffer keeps."""
        self.buffer.flush()

    def _insert(self, objs: list[M]) -> list[M]:
        """Insert new rows and remember what was written, so that `_save` writes only what
        changed."""
        self.buffer.insert(objs)
        for obj in objs:
            obj._written = _values(obj)  # type: ignore[attr-defined]
        return objs

    def _save(self, obj: Model) -> None:
        """`save()` for a row this writer inserted: only the fields changed since it last wrote
        it. A JSON value (a clock, a form) is replaced by a new list or dict here, never changed
        in place, so the value last written is still there to compare with."""
        now = _values(obj)
        before = obj._written  # type: ignore[attr-defined]
        changed = [
            name
            for name, value, was in zip(_attnames(type(obj))[0], now, before, strict=True)
            if value is not was and value != was
        ]
        if changed:
            self.buffer.update(obj, changed)
        obj._written = now  # type: ignore[attr-defined]

    # --- reads -----------------------------------------------------------------------------------

    def _mine(self, case: Case) -> _Held | None:
        return self._mine_id(case.pk)

    def _mine_id(self, case_id: int) -> _Held | None:
        """By key: a step read from the database has no case loaded, and needs none here."""
        return None if case_id in self.plain else self.held.get(case_id)

    def refresh(self, case: Case) -> Case:
        return case if self._mine(case) else super().refresh(case)

    def materials(self, case: Case) -> list[CaseMaterial]:
        held = self._mine(case)
        return list(held.materials) if held else super().materials(case)

    def active_steps(self, case: Case) -> list[Step]:
        held = self._mine(case)
        if held is None:
            return super().active_steps(case)
        return [s for s in held.steps if s.status == StepStatus.ACTIVE]

    def refresh_step(self, step: Step) -> Step:
        if step.case_id in self.held and step.case_id not in self.plain:
            return step
        return super().refresh_step(step)

    def _parts(self, bundle: Bundle) -> _BundleParts:
        parts = self.bundles.get(bundle.pk)
        if parts is None:
            parts = self.bundles[bundle.pk] = _BundleParts(bundle)
        return parts

    def bundle_form(self, bundle: Bundle) -> list[FieldSpec]:
        return self._parts(bundle).form

    def next_bundle_step(self, parent: Case) -> Step | None:
        held = self._mine(parent)
        if held is None:
            return super().next_bundle_step(parent)
        active = [s for c in held.children for s in c.steps if s.status == StepStatus.ACTIVE]
        if any(s.due is None for s in active):
            return super().next_bundle_step(parent)
        active.sort(key=lambda s: (s.due, s.case.number, s.order))
        return active[0] if active else None

    def is_last_open_step(self, step: Step) -> bool:
        held = self._mine_id(step.case_id)
        if held is None:
            return super().is_last_open_step(step)
        return not any(
            s.status not in (StepStatus.PASSED, StepStatus.CANCELLED)
            for s in held.steps
            if s.pk != step.pk
        )

    def output_keys_of(self, child: Case) -> list[str]:
        held = self._mine(child)
        if held is None or child.parent_id is None:
            return super().output_keys_of(child)
        assert child.bundle_member_id is not None
        return self.held[child.parent_id].parts().outputs_of(child.bundle_member_id)

    def _single(self, case: Case) -> _Held | None:
        """The held case for a call mirrored for a single item only; a 一件事 or one of its items
        is handed to the services for that call and after."""
        held = self._mine(case)
        if held is not None and (held.bundle is not None or case.parent_id is not None):
            self._give_up(case)
            return None
        return held

    def _give_up(self, case: Case) -> None:
        """From now on this case (with its whole bundle) is the services' and the database's."""
        if case.parent_id is not None and case.parent_id in self.held:
            self._give_up(self.held[case.parent_id].case)
            return
        self.plain.add(case.pk)
        held = self.held.get(case.pk)
        if held is not None:
            self.plain.update(child.case.pk for child in held.children)
        self._let_go(case)

    def _let_go(self, case: Case) -> None:
        held = self.held.pop(case.pk, None)
        self.heads.pop(case.pk, None)
        for child in held.children if held else []:
            self._let_go(child.case)

    def _definitions(self, version: ItemVersion) -> list[Any]:
        """A published version's steps never change (and are no row of this writer's): read
        once a run."""
        found = self.definitions.get(version.pk)
        if found is None:
            with self.buffer.unsynced():
                found = list(version.steps.select_related("department").order_by("order"))
            self.definitions[version.pk] = found
        return found

    def _number(self, region_code: str, day: date) -> str:
        """services.case_number_next, from the day's counter row held here. The row is read
        again after anyone else inserts a row (a service may have taken a number). Where the
        buffer writes at once (not SQLite), the service takes the number."""
        if not self.buffer.on:
            return services.case_number_next(region_code=region_code, day=day)
        others = self.buffer.others_inserted[CaseNumberCounter._meta.db_table]
        others += self.buffer.others_inserted[""]
        if self.counters_as_of != others:
            self.counters.clear()
            self.counters_as_of = others
        counter = self.counters.get((region_code, day))
        if counter is None:
            # Since anyone else last inserted a counter (which wrote out everything first), this
            # writer has not written the row of this day: it is as the database has it.
            with self.buffer.unsynced():
                found = CaseNumberCounter.objects.filter(region_code=region_code, day=day).first()
            if found is None:
                counter = CaseNumberCounter(region_code=region_code, day=day, last=1)
                self._insert([counter])
            else:
                counter = found
                counter._written = _values(counter)  # type: ignore[attr-defined]
                counter.last += 1
                self._save(counter)
            self.counters[(region_code, day)] = counter
        else:
            counter.last += 1
            self._save(counter)
        return f"{region_code}{day:%Y%m%d}{counter.last:05d}"

    # --- the event log and the case's state -----------------------------------------------------

    def _event(
        self, case: Case, kind: str, actor: Any, payload: dict[str, Any] | None = None
    ) -> None:
        """tongban.cases.services._event: the case's number and status with every payload."""
        body = {"number": case.number, "status": case.status, **(payload or {})}
        self._append(case, f"case.{kind}", actor, body)

    def _append(
        self,
        case: Case,
        kind: str,
        actor: Any,
        payload: dict[str, Any],
        head: tuple[int, str] | None = None,
    ) -> None:
        """tongban.core.services.event_append on the case's chain. The chain's last link is read
        from the database unless this writer holds the case and wrote that link itself (or
        wrote it and passes it as `head`)."""
        subject_id = str(case.pk)
        last = head or self.heads.get(case.pk)
        if last is None:
            with connection.cursor() as cursor:
                cursor.execute(_HEAD, ["cases.case", subject_id])
                last = cursor.fetchone()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
        # tongban.core.services._chained, without building the model object.
        fields: dict[str, Any] = {
            "subject_type": "cases.case",
            "subject_id": subject_id,
            "seq": seq,
            "kind": kind,
            "actor_id": actor.pk if actor is not None else None,
            "actor_label": _actor_label(actor),
            "occurred_at": timezone.now(),
            "payload": normalise_payload(payload),
            "prev_hash": prev_hash,
        }
        fields["hash"] = event_hash(**fields)
        self.buffer.insert_values(Event, [fields])
        if case.pk in self.held:
            self.heads[case.pk] = (seq, fields["hash"])

    def card_sweep(self, *, at: datetime) -> None:
        """tongban.supervision.services.card_sweep: the same candidates, read by its selector;
        each case's alert written here (a directive's, which a demo year has none of, there)."""
        from tongban.supervision import selectors as supervision
        from tongban.supervision import services as sweeping
        from tongban.supervision.models import CardClock, CardColour

        boundary = supervision.card_boundary(at=at)
        for clock in sweeping.SWEEP_CLOCKS:
            for colour in (CardColour.RED, CardColour.YELLOW):
                after = 0
                while True:
                    rows = supervision.sweep_candidates(
                        clock=clock,
                        colour=colour,
                        boundary=boundary,
                        after=after,
                        limit=sweeping.SWEEP_BATCH,
                    )
                    for row in rows:
                        if clock == CardClock.DIRECTIVE:
                            sweeping._sweep_one(clock, colour, row)
                        else:
                            self._alert(clock, colour, row)
                    if len(rows) < sweeping.SWEEP_BATCH:
                        break
                    after = rows[-1].pk
        for directive in supervision.directives_to_escalate(at=at):
            sweeping._escalate(directive, at=at)

    def _alert(self, clock: str, colour: str, row: Any) -> None:
        """tongban.supervision.services._sweep_one and _alert_once for a case's or a step's clock
        (no SMS: the demo is quiet)."""
        from tongban.supervision.models import CardAlert, CardClock, CardColour
        from tongban.supervision.services import alert_recipients, case_due

        if clock == CardClock.STEP:
            case, due, step_name = row.case, row.due, row.name
        else:
            case, due, step_name = row, case_due(clock, row), ""
        department = row.department
        red = colour == CardColour.RED
        key = (department.pk, red)
        if key not in self.recipients:
            self.recipients[key] = len(alert_recipients(department=department, red=red))
        self.buffer.insert(
            [
                CardAlert(
                    clock=clock,
                    colour=colour,
                    object_id=row.pk,
                    case=case,
                    department=department,
                    step_name=step_name,
                    due=due,
                    created_at=timezone.now(),
                    recipients=self.recipients[key],
                )
            ]
        )
        kind = "case.legal_overdue" if clock == CardClock.LEGAL and red else f"case.card_{colour}"
        payload = {
            "clock": clock,
            "step": step_name,
            "department_id": department.pk,
            "department": department.name,
        }
        self._append(case, kind, None, payload)

    def _move(
        self,
        case: Case,
        target: str,
        *,
        actor: Any,
        kind: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        if not can_move(case.status, target):
            raise services._state_error(case, kind)
        before = case.status
        case.status = target
        if target in FINAL_STATUSES and case.closed_at is None:
            case.closed_at = timezone.now()
        self._save(case)
        self._event(case, kind, actor, {"from": before, "to": target, **(payload or {})})

    # --- application -----------------------------------------------------------------------------

    def case_create(
        self,
        *,
        actor: Any,
        applicant: Applicant,
        channel: str,
        version: ItemVersion | None = None,
        bundle: Bundle | None = None,
        form_data: Mapping[str, Any] | None = None,
        hall: Hall | None = None,
        submit: bool = True,
        **others: Any,
    ) -> Case:
        if (version is None) == (bundle is None) or others:
            return services.case_create(
                actor=actor,
                applicant=applicant,
                channel=channel,
                version=version,
                bundle=bundle,
                form_data=form_data,
                hall=hall,
                submit=submit,
                **others,
            )
        if bundle is not None:
            return self._bundle_create(
                actor=actor,
                applicant=applicant,
                channel=channel,
                bundle=bundle,
                data=dict(form_data or {}),
                hall=hall,
                submit=submit,
            )
        assert version is not None
        data = dict(form_data or {})
        if submit:
            data = services._validated_new_application(
                version, data, online=channel == Channel.ONLINE
            )
        now = timezone.now()
        region = version.item.region
        number = self._number(region.code, timezone.localdate(now))
        case = services.case_row(
            number=number,
            version=version,
            bundle=None,
            region=region,
            hall=hall,
            applicant=applicant,
            actor=actor,
            channel=channel,
            form_data=data,
            now=now,
            submitted=submit,
        )
        self._insert([case])
        self._hold(case, self._insert(services._materials_for(case, version)))
        created = {"channel": channel, "item": case.title, "hall": hall.name if hall else ""}
        self._event(case, "created", actor, created)
        if submit:
            # As event_chain_start writes them: both at the same instant, the case's status in each.
            self._event(case, "submitted", actor, {"from": CaseStatus.DRAFT, "to": case.status})
        return case

    def _bundle_create(
        self,
        *,
        actor: Any,
        applicant: Applicant,
        channel: str,
        bundle: Bundle,
        data: dict[str, Any],
        hall: Hall | None,
        submit: bool,
    ) -> Case:
        parts = self._parts(bundle)
        now = timezone.now()
        region = bundle.region
        number = self._number(region.code, timezone.localdate(now))
        case = services.case_row(
            number=number,
            version=None,
            bundle=bundle,
            region=region,
            hall=hall,
            applicant=applicant,
            actor=actor,
            channel=channel,
            form_data=data,
            now=now,
            submitted=False,  # submitted below with its items, as the services submit a bundle
        )
        self._insert([case])
        materials = services.bundle_material_rows(case, parts.materials)
        held = self._hold(case, self._insert(materials))
        held.bundle = parts
        for index, (member, member_version) in enumerate(parts.members, start=1):
            child = services.bundle_item_row(
                case, index, member, member_version, parts.child_form(data, member_version)
            )
            self._insert([child])
            held.children.append(
                self._hold(child, self._insert(services._materials_for(child, member_version)))
            )
        self._event(
            case,
            "created",
            actor,
            {"channel": channel, "item": case.title, "hall": hall.name if hall else ""},
        )
        if submit:
            self._bundle_submit(held, actor=actor, now=now)
        return case

    def _hold(self, case: Case, materials: list[CaseMaterial]) -> _Held:
        held = self.held[case.pk] = _Held(case, materials)
        self.heads[case.pk] = (0, "")  # a new chain
        return held

    def _share_parent_uploads(self, parent: _Held, child: _Held) -> None:
        by_type: dict[str, list[Any]] = {}
        for material in parent.materials:
            by_type.setdefault(material.material_type, []).extend(parent.files.get(material.pk, []))
        states = {m.material_type: (m.status, m.owed_by) for m in parent.materials}
        through = CaseMaterial.uploads.through
        for material in child.materials:
            have = child.files.setdefault(material.pk, [])
            new = [
                u for u in dict.fromkeys(by_type.get(material.material_type, [])) if u not in have
            ]
            if new:
                self.buffer.insert_values(
                    through, [{"casematerial_id": material.pk, "upload_id": u} for u in new]
                )
                have.extend(new)
            shared = states.get(material.material_type)
            if shared and material.status != MaterialStatus.WAIVED and shared[0] != material.status:
                material.status, material.owed_by = shared
                self._save(material)

    def _bundle_submit(self, held: _Held, *, actor: Any, now: datetime) -> None:
        case = held.case
        cleaned = validate_submission(held.parts().form, case.form_data)
        case.form_data = cleaned
        case.submitted_at = now
        if case.channel == Channel.ONLINE:
            case.prereview_due = services._prereview_due(case, now)
        self._move(case, CaseStatus.SUBMITTED, actor=actor, kind="submitted")
        for child_held in held.children:
            child = child_held.case
            assert child.version is not None
            child.form_data = {**child.form_data, **held.parts().child_form(cleaned, child.version)}
            child.submitted_at = now
            child.prereview_due = case.prereview_due
            self._share_parent_uploads(held, child_held)
            self._move(child, CaseStatus.SUBMITTED, actor=actor, kind="submitted")

    def upload_add(
        self, *, actor: Any, case: Case, material: CaseMaterial, name: str, content: bytes
    ) -> Upload | None:
        held = self._mine(case)
        if held is None:
            return services.upload_add(
                actor=actor, case=case, material=material, name=name, content=content
            )
        sniffed = sniff_upload(name=name, content=content)
        upload = Upload(
            case=case,
            original_name=name[:200],
            content_type=sniffed.content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        self._store(upload, f"upload{sniffed.extension}", content)
        self.buffer.insert([upload])
        through = CaseMaterial.uploads.through
        self.buffer.insert_values(
            through, [{"casematerial_id": material.pk, "upload_id": upload.pk}]
        )
        held.files.setdefault(material.pk, []).append(upload.pk)
        if material.status in (
            MaterialStatus.PENDING,
            MaterialStatus.MISSING,
            MaterialStatus.DEFECTIVE,
        ):
            material.status = MaterialStatus.PENDING
            self._save(material)
        self._event(
            case,
            "material_uploaded",
            actor,
            {"material": material.name, "sha256": upload.sha256, "size": upload.size},
        )
        return upload

    def _store(self, upload: Upload, name: str, content: bytes) -> None:
        """`upload.file.save(name, content)`. On a file system storage, a file with the same
        bytes as one stored before in this run is made as a hard link to it: a new name with the
        same bytes, as the storage would have written them, about ten times faster than a new
        file (the demo hands in the same few bytes for every material, docs/BENCHMARKS.md).
        Nothing writes an upload again after it is stored, so the names never differ in content.
        Where the link cannot be made (a new folder, another file system …) the storage saves."""
        storage = upload.file.storage
        source = self.stored.get(upload.sha256)
        if source is not None:
            stored = upload.file.field.generate_filename(upload, name)
            try:
                os.link(source, storage.path(stored))
            except OSError:
                pass
            else:
                upload.file.name = stored
                return
        upload.file.save(name, _content(content), save=False)
        if isinstance(storage, FileSystemStorage) and upload.file.name:
            self.stored[upload.sha256] = storage.path(upload.file.name)

    def _cleaned_form(self, case: Case) -> dict[str, Any]:
        # The demo uploads a file for every material it owes before it submits, so the services'
        # check of the files always passes; the form is checked as they check it.
        assert case.version is not None
        return validate_submission(services.version_specs(case.version), case.form_data)

    def case_submit(self, *, actor: Any, case: Case) -> Case:
        held = self._mine(case)
        if held is None or case.parent_id is not None:
            return services.case_submit(actor=actor, case=case)
        now = timezone.now()
        if held.bundle is not None:
            self._bundle_submit(held, actor=actor, now=now)
            return case
        case.form_data = self._cleaned_form(case)
        case.submitted_at = now
        if case.channel == Channel.ONLINE:
            case.prereview_due = services._prereview_due(case, now)
        self._move(case, CaseStatus.SUBMITTED, actor=actor, kind="submitted")
        return case

    # --- the one answer --------------------------------------------------------------------------

    def case_refuse(self, *, actor: Any, case: Case, reason: str, basis: str) -> Case:
        if self._single(case) is None:
            return services.case_refuse(actor=actor, case=case, reason=reason, basis=basis)
        case.decision_reason = reason.strip()
        case.refusal_basis = basis.strip()
        self._move(
            case,
            CaseStatus.REFUSED,
            actor=actor,
            kind="refused",
            payload={"reason": case.decision_reason, "basis": case.refusal_basis},
        )
        return case

    def case_request_supplement(
        self, *, actor: Any, case: Case, items: Sequence[Mapping[str, str]]
    ) -> SupplementRequest | None:
        held = self._single(case)
        if held is None:
            return services.case_request_supplement(actor=actor, case=case, items=items)
        cleaned_items = [
            {
                "kind": item.get("kind", "material"),
                "key": str(item.get("key", "")),
                "name": str(item.get("name", "")),
                "problem": str(item.get("problem", "")).strip(),
            }
            for item in items
        ]
        case.supplement_count += 1
        request = SupplementRequest(
            case=case, sequence=case.supplement_count, items=cleaned_items, requested_by=actor
        )
        self._insert([request])
        held.supplements.append(request)
        by_key = {str(m.pk): m for m in held.materials}
        by_key.update({m.material_type: m for m in held.materials})
        for item in cleaned_items:
            material = by_key.get(item["key"]) if item["kind"] == "material" else None
            if material is not None:
                material.status = (
                    MaterialStatus.DEFECTIVE
                    if held.files.get(material.pk)
                    else MaterialStatus.MISSING
                )
                material.problem = item["problem"][:300]
                self._save(material)
        case.prereview_due = None
        self._move(
            case,
            CaseStatus.SUPPLEMENT,
            actor=actor,
            kind="supplement_requested",
            payload={"sequence": request.sequence, "items": cleaned_items},
        )
        if request.breaches_one_time_notice:
            self._event(case, "one_time_notice_breached", actor, {"sequence": request.sequence})
        return request

    def case_supplement_submit(self, *, actor: Any, case: Case) -> Case:
        held = self._single(case)
        if held is None:
            return services.case_supplement_submit(actor=actor, case=case)
        at_window = getattr(actor, "kind", None) == "staff"
        now = timezone.now()
        if held.supplements:
            request = held.supplements[-1]
            request.answered_at = now
            self._save(request)
        if at_window:
            case.visits += 1
        online = case.channel == Channel.ONLINE and not at_window
        case.form_data = self._cleaned_form(case)
        if online:
            case.prereview_due = services._prereview_due(case, now)
        for material in held.materials:
            if material.status in (MaterialStatus.MISSING, MaterialStatus.DEFECTIVE):
                material.status = MaterialStatus.PENDING
                self._save(material)
        self._move(
            case,
            CaseStatus.SUBMITTED,
            actor=actor,
            kind="supplemented",
            payload={"visit": at_window},
        )
        return case

    def case_accept(
        self,
        *,
        actor: Any,
        case: Case,
        tolerated: Sequence[CaseMaterial] = (),
        owed_by: date | None = None,
        commitment: bool = False,
        commitment_text: str = "",
        checklist: Mapping[int, bool] | None = None,
    ) -> Case:
        held = self._mine(case)
        special = bool(tolerated) or commitment
        if held is None or (
            special
            and (
                held.bundle is not None
                or case.parent_id is not None
                or services.acceptance_errors(case, tolerated, owed_by, commitment, commitment_text)
            )
        ):
            # A bundle's 容缺 or 告知承诺, and any refusal of the services', are theirs.
            self._give_up(case)
            return services.case_accept(
                actor=actor,
                case=case,
                tolerated=tolerated,
                owed_by=owed_by,
                commitment=commitment,
                commitment_text=commitment_text,
                checklist=checklist,
            )
        for material in held.materials:
            if (
                checklist
                and checklist.get(material.pk)
                and material.status != MaterialStatus.WAIVED
            ):
                material.status = MaterialStatus.PROVIDED
                material.checked = True
                self._save(material)
        now = timezone.now()
        case.accepted_at = now
        case.clock = [clocks.start(now)]
        if tolerated:
            assert owed_by is not None
            mine = {m.pk: m for m in held.materials}
            for material in tolerated:
                # The held row, whichever copy the caller passed.
                material = mine[material.pk]
                material.status = MaterialStatus.TOLERATED
                material.owed_by = owed_by
                self._save(material)
            case.tolerance_due = services.tolerance_due(owed_by)
        if commitment:
            case.commitment = True
            case.commitment_text = commitment_text.strip()
        services._recompute_case_dues(case, services._calendar(case))
        self._move(
            case,
            CaseStatus.ACCEPTED,
            actor=actor,
            kind="accepted",
            payload={
                "tolerated": [m.name for m in tolerated],
                "owed_by": owed_by.isoformat() if owed_by else None,
                "commitment": commitment,
                "promised_due": services._iso(case.promised_due),
                "legal_due": services._iso(case.legal_due),
            },
        )
        if commitment:
            check = services.commitment_post_check(case, now)
            self.buffer.insert([check])
            self._conclude(held, actor=actor, approved=True, now=now)
            self._event(case, "post_check_scheduled", actor, {"due": services._iso(check.due)})
        elif held.bundle is not None:
            for child in held.children:
                child.case.accepted_at = now
                self._share_parent_uploads(held, child)
                assert child.case.bundle_member_id is not None
                if held.bundle.depends[child.case.bundle_member_id]:
                    self._move(child.case, CaseStatus.WAITING, actor=actor, kind="waiting")
                else:
                    self._start_child(child, actor=actor, now=now)
        else:
            self._instantiate_steps(held, actor=actor, now=now)
        return case

    def _start_child(self, held: _Held, *, actor: Any, now: datetime) -> None:
        child = held.case
        child.accepted_at = child.accepted_at or now
        child.clock = [clocks.start(now)]
        services._recompute_case_dues(child, services._calendar(child))
        self._move(
            child,
            CaseStatus.ACCEPTED,
            actor=actor,
            kind="accepted",
            payload={
                "promised_due": services._iso(child.promised_due),
                "legal_due": services._iso(child.legal_due),
            },
        )
        self._instantiate_steps(held, actor=actor, now=now)

    def _child_concluded(self, held: _Held, *, actor: Any, now: datetime) -> None:
        """tongban.cases.services._bundle_child_concluded."""
        child = held.case
        assert child.parent_id is not None and child.bundle_member_id is not None
        parent_held = self.held[child.parent_id]
        parent, parts = parent_held.case, parent_held.parts()
        siblings = parent_held.children
        by_member = {s.case.bundle_member_id: s for s in siblings}
        for mapping in parts.mappings[child.bundle_member_id]:
            target = by_member.get(mapping.target_id)
            value = child.outputs.get(mapping.source_key, child.form_data.get(mapping.source_key))
            if target is None or value in (None, ""):
                continue
            target.case.form_data = {**target.case.form_data, mapping.target_key: value}
            self._save(target.case)
            self._event(
                target.case,
                "input_filled",
                actor,
                {"key": mapping.target_key, "value": value, "from": child.number},
            )
        ended = (
            CaseStatus.DENIED,
            CaseStatus.TERMINATED,
            CaseStatus.WITHDRAWN,
            CaseStatus.REFUSED,
            CaseStatus.REVOKED,
        )
        for sibling in siblings:
            if sibling.case.status != CaseStatus.WAITING:
                continue
            assert sibling.case.bundle_member_id is not None
            prerequisites = [
                by_member[m].case
                for m in parts.depends[sibling.case.bundle_member_id]
                if m in by_member
            ]
            if any(p.status in ended for p in prerequisites):
                sibling.case.close_reason = _("前置事项未获准予，本事项无法办理。")
                self._move(
                    sibling.case,
                    CaseStatus.TERMINATED,
                    actor=actor,
                    kind="terminated",
                    payload={"reason": sibling.case.close_reason},
                )
            elif all(p.decision == Decision.APPROVED for p in prerequisites):
                self._start_child(sibling, actor=actor, now=now)
        running = (
            CaseStatus.SUBMITTED,
            CaseStatus.WAITING,
            CaseStatus.ACCEPTED,
            CaseStatus.SUSPENDED,
        )
        if all(s.case.status not in running for s in siblings):
            approved = all(s.case.decision == Decision.APPROVED for s in siblings)
            if parent.status == CaseStatus.ACCEPTED:
                parent.outputs = {k: v for s in siblings for k, v in s.case.outputs.items()}
                self._conclude(parent_held, actor=actor, approved=approved, now=now)

    # --- steps -----------------------------------------------------------------------------------

    def _instantiate_steps(self, held: _Held, *, actor: Any, now: datetime) -> None:
        case = held.case
        assert case.version is not None
        rows = services.step_rows(case, self._definitions(case.version))
        held.steps = self._insert(rows)
        held.steps.sort(key=lambda s: s.order)
        for step in held.steps:
            if step.role != Role.WINDOW_CLERK or step.stage != 1:
                break
            step.status = StepStatus.PASSED
            step.started_at = step.finished_at = now
            step.clock = [clocks.start(now), clocks.stop(now)]
            step.handled_by = actor if getattr(actor, "kind", None) == "staff" else None
            step.opinion = _("已受理")
            services._recompute_step_due(step, services._calendar(step.case))
            self._save(step)
        self._advance(held, actor=actor, now=now)

    def _advance(self, held: _Held, *, actor: Any, now: datetime) -> None:
        steps = held.steps
        if any(s.status == StepStatus.ACTIVE for s in steps):
            return
        remaining = [
            s for s in steps if s.status != StepStatus.PASSED and s.status != StepStatus.CANCELLED
        ]
        if not remaining:
            self._conclude(held, actor=actor, approved=True, now=now)
            return
        stage = min(s.stage for s in remaining)
        started = []
        for step in steps:
            if step.stage == stage and step.status != StepStatus.CANCELLED:
                step.status = StepStatus.ACTIVE
                step.started_at = now
                step.finished_at = None
                step.handled_by = None
                step.opinion = ""
                step.denial_proposed = False
                step.clock = [clocks.start(now)]
                services._recompute_step_due(step, services._calendar(step.case))
                self._save(step)
                started.append(step)
        self._event(
            held.case,
            "steps_started",
            actor,
            {
                "steps": [
                    {"name": s.name, "department": s.department.name, "due": services._iso(s.due)}
                    for s in started
                ]
            },
        )

    def _finish(self, step: Step, *, actor: Any, opinion: str, now: datetime) -> None:
        step.status = StepStatus.PASSED
        step.finished_at = now
        step.handled_by = actor
        step.opinion = opinion
        if clocks.is_running(step.clock):
            step.clock = [*step.clock, clocks.stop(now)]
        services._recompute_step_due(step, services._calendar(step.case))
        self._save(step)

    def _record_results(self, case: Case, outputs: Mapping[str, Any] | None) -> None:
        if outputs:
            case.outputs = {
                **case.outputs,
                **{k: str(v).strip() for k, v in outputs.items() if str(v).strip()},
            }
            self._save(case)

    def step_pass(
        self,
        *,
        actor: Any,
        step: Step,
        opinion: str,
        outputs: Mapping[str, Any] | None = None,
        **others: Any,
    ) -> Step:
        held = None if others else self._mine_id(step.case_id)
        if held is None:
            return services.step_pass(
                actor=actor, step=step, opinion=opinion, outputs=outputs, **others
            )
        now = timezone.now()
        self._record_results(held.case, outputs)
        self._finish(step, actor=actor, opinion=opinion.strip(), now=now)
        self._event(
            held.case,
            "step_passed",
            actor,
            {"step": step.name, "department": step.department.name, "opinion": step.opinion},
        )
        self._advance(held, actor=actor, now=now)
        return step

    def step_decide(
        self,
        *,
        actor: Any,
        step: Step,
        approve: bool,
        reason: str = "",
        basis: str = "",
        outputs: Mapping[str, Any] | None = None,
        **others: Any,
    ) -> Case:
        held = None if others else self._mine_id(step.case_id)
        if held is None:
            return services.step_decide(
                actor=actor,
                step=step,
                approve=approve,
                reason=reason,
                basis=basis,
                outputs=outputs,
                **others,
            )
        case = held.case
        now = timezone.now()
        self._record_results(case, outputs)
        if approve:
            case.decision = Decision.APPROVED
            case.decided_at = now
            case.decision_reason = reason.strip()
            self._save(case)
            self._finish(step, actor=actor, opinion=reason.strip() or _("准予"), now=now)
            self._event(
                case,
                "decided",
                actor,
                {"decision": "approved", "step": step.name, "outputs": case.outputs},
            )
            self._advance(held, actor=actor, now=now)
        else:
            self._finish(step, actor=actor, opinion=reason.strip(), now=now)
            case.decision_reason = reason.strip()
            case.refusal_basis = basis.strip()
            self._conclude(held, actor=actor, approved=False, now=now)
        return case

    def _conclude(self, held: _Held, *, actor: Any, approved: bool, now: datetime) -> None:
        case = held.case
        for open_step in held.steps:
            if open_step.status in (StepStatus.ACTIVE, StepStatus.WAITING, StepStatus.RETURNED):
                open_step.status = StepStatus.CANCELLED
                if clocks.is_running(open_step.clock):
                    open_step.clock = [*open_step.clock, clocks.stop(now)]
                services._recompute_step_due(open_step, services._calendar(case))
                self._save(open_step)
        case.decision = Decision.APPROVED if approved else Decision.DENIED
        case.decided_at = case.decided_at or now
        case.completed_at = now
        if clocks.is_running(case.clock):
            case.clock = [*case.clock, clocks.stop(now)]
        services._recompute_case_dues(case, services._calendar(case))
        if approved and not case.result_name and case.version is not None:
            case.result_name = case.version.result_name
        if approved and not case.result_number:
            case.result_number = case.number
        if approved and case.parent_id is not None:
            assert case.bundle_member_id is not None
            parts = self.held[case.parent_id].parts()
            if any(not case.outputs.get(k) for k in parts.outputs_of(case.bundle_member_id)):
                raise ValueError(f"{case.number}: the outputs later items need are missing")
        self._move(
            case,
            CaseStatus.COMPLETED if approved else CaseStatus.DENIED,
            actor=actor,
            kind="completed" if approved else "denied",
            payload={
                "decision": case.decision,
                "on_time": case.promised_due is None or now <= case.promised_due,
            },
        )
        if case.parent_id is not None:
            self._child_concluded(held, actor=actor, now=now)

    # --- special procedures ----------------------------------------------------------------------

    def _clock_active_steps(self, held: _Held, entry: dict[str, Any]) -> list[Step]:
        steps = [s for s in held.steps if s.status == StepStatus.ACTIVE]
        for step in steps:
            step.clock = [*step.clock, entry]
            services._recompute_step_due(step, services._calendar(step.case))
            self._save(step)
        return steps

    def case_suspend(
        self, *, actor: Any, case: Case, kind: str, reason: str, expected_days: int
    ) -> Suspension:
        held = self._single(case)
        if held is None:
            return services.case_suspend(
                actor=actor, case=case, kind=kind, reason=reason, expected_days=expected_days
            )
        now = timezone.now()
        suspension = Suspension(
            case=case,
            kind=kind,
            reason=reason.strip(),
            expected_days=expected_days,
            started_at=now,
            started_by=actor,
        )
        self._insert([suspension])
        held.suspension = suspension
        case.clock = [*case.clock, clocks.suspend(now, kind)]
        services._recompute_case_dues(case, services._calendar(case))
        self._clock_active_steps(held, clocks.suspend(now, kind))
        self._move(
            case,
            CaseStatus.SUSPENDED,
            actor=actor,
            kind="suspended",
            payload={
                "procedure": kind,
                "reason": suspension.reason,
                "expected_days": expected_days,
            },
        )
        return suspension

    def case_resume(self, *, actor: Any, case: Case) -> Case:
        held = self._single(case)
        if held is None or held.suspension is None:
            return services.case_resume(actor=actor, case=case)
        now = timezone.now()
        suspension, held.suspension = held.suspension, None
        suspension.ended_at = now
        suspension.ended_by = actor
        self._save(suspension)
        if suspension.kind == "hearing":
            case.visits += 1
        case.clock = [*case.clock, clocks.resume(now)]
        services._recompute_case_dues(case, services._calendar(case))
        moved = [
            {"step": step.name, "due": services._iso(step.due)}
            for step in self._clock_active_steps(held, clocks.resume(now))
        ]
        self._move(
            case,
            CaseStatus.ACCEPTED,
            actor=actor,
            kind="resumed",
            payload={
                "procedure": suspension.kind,
                "promised_due": services._iso(case.promised_due),
                "legal_due": services._iso(case.legal_due),
                "steps": moved,
                "visit": suspension.kind == "hearing",
            },
        )
        return case

    # --- the end ---------------------------------------------------------------------------------

    def case_ready_for_pickup(self, *, actor: Any, case: Case) -> Case:
        if self._mine(case) is None:
            return services.case_ready_for_pickup(actor=actor, case=case)
        self._event(case, "ready_for_pickup", actor, {"hall": case.hall.name if case.hall else ""})
        return case

    def case_deliver(self, *, actor: Any, case: Case, method: str, detail: str = "") -> Case:
        if self._mine(case) is None or case.status != CaseStatus.COMPLETED:
            return services.case_deliver(actor=actor, case=case, method=method, detail=detail)
        now = timezone.now()
        case.delivery_method = method
        case.delivery_detail = detail.strip() or (
            case.hall.name if case.hall and method == "window" else ""
        )
        case.delivered_at = now
        if method == "window":
            case.visits += 1
        self._move(
            case,
            CaseStatus.DELIVERED,
            actor=actor,
            kind="delivered",
            payload={"method": method, "detail": case.delivery_detail, "visit": method == "window"},
        )
        for child_held in self.held[case.pk].children:
            child = child_held.case
            if child.status == CaseStatus.COMPLETED:
                child.delivery_method = method
                child.delivery_detail = case.delivery_detail
                child.delivered_at = now
                self._move(child, CaseStatus.DELIVERED, actor=actor, kind="delivered")
        # Delivered is final: nothing more is written from memory for this case but its rating,
        # which continues its chain from here.
        if case.pk in self.heads:
            self.delivered[case.pk] = self.heads[case.pk]
        self._let_go(case)
        return case

    def evaluation_by_applicant(
        self, *, actor: Any, case: Case, occasion: str, level: str, **others: Any
    ) -> Any:
        """A satisfied applicant's rating (a bad one opens a rectification: the services')."""
        from tongban.reviews import services as reviews
        from tongban.reviews.models import BAD_LEVELS, Evaluation
        from tongban.reviews.models import Channel as ReviewChannel

        head = self.delivered.pop(case.pk, None)
        if others or level in BAD_LEVELS or case.pk in self.plain or case.parent_id is not None:
            return reviews.evaluation_by_applicant(
                actor=actor, case=case, occasion=occasion, level=level, **others
            )
        evaluation = Evaluation(
            case=case,
            occasion=occasion,
            level=level,
            tags=[],
            text="",
            channel=ReviewChannel.PORTAL,
            department_id=case.department_id,
            region_id=case.region_id,
            rated_by=actor,
            recorded_by=None,
            rerating_of=None,
        )
        self.buffer.insert([evaluation])
        self._append(
            case,
            "review.submitted",
            actor,
            head=head,
            payload={
                "number": case.number,
                "evaluation": evaluation.pk,
                "occasion": occasion,
                "level": level,
                "tags": [],
                "text": "",
                "channel": ReviewChannel.PORTAL,
                "rerating_of": None,
            },
        )
        return evaluation

    def case_withdraw(self, *, actor: Any, case: Case, reason: str = "") -> Case:
        self._give_up(case)
        return services.case_withdraw(actor=actor, case=case, reason=reason)

    def tolerated_material_supply(self, *, actor: Any, material: CaseMaterial) -> CaseMaterial:
        held = self._mine_id(material.case_id)
        at_window = getattr(actor, "kind", None) == "staff"
        mine = next((m for m in held.materials if m.pk == material.pk), None) if held else None
        if (
            held is None
            or held.bundle is not None
            or held.case.parent_id is not None
            or mine is None
            or mine.status != MaterialStatus.TOLERATED
            or not (at_window or held.files.get(mine.pk))
        ):
            # A bundle's debt (its items' copies clear with it), and any refusal, are theirs.
            self._give_up(material.case)
            return services.tolerated_material_supply(actor=actor, material=material)
        case = held.case
        mine.status = MaterialStatus.PROVIDED
        mine.checked = at_window
        self._save(mine)
        if at_window:
            case.visits += 1
        if not any(m.status == MaterialStatus.TOLERATED for m in held.materials):
            case.tolerance_due = None
        self._save(case)
        self._event(case, "tolerated_supplied", actor, {"material": mine.name, "visit": at_window})
        return mine

    def extension_request(self, *, actor: Any, case: Case, days: int, reason: str) -> Any:
        self._give_up(case)
        return services.extension_request(actor=actor, case=case, days=days, reason=reason)


@cache
def _attnames(model: type[Model]) -> tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]:
    """The model's column attributes, and a getter of their values from an object's __dict__."""
    names = tuple(f.attname for f in model._meta.concrete_fields)
    return names, itemgetter(*names)


def _values(obj: Model) -> tuple[Any, ...]:
    """Each column attribute's value, in the order of `_attnames` (read straight from the
    object's __dict__, where a row built or read whole keeps them all)."""
    names, get = _attnames(type(obj))
    try:
        return tuple(get(obj.__dict__)) if len(names) > 1 else (get(obj.__dict__),)
    except KeyError:  # a deferred field: loaded by its descriptor
        return tuple(getattr(obj, name) for name in names)


def _content(content: bytes) -> Any:
    from django.core.files.base import ContentFile

    return ContentFile(content)
